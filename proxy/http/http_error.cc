#include "proxy/http/http_error.h"

namespace locus::proxy::http {

std::string_view HttpErrorName(HttpError e) {
  switch (e) {
    case HttpError::kNone: return "none";
    case HttpError::kBareLf: return "bare LF";
    case HttpError::kBareCr: return "bare CR";
    case HttpError::kTooManyEmptyLines: return "too many empty lines before start line";
    case HttpError::kBadRequestLine: return "bad request line";
    case HttpError::kBadMethod: return "bad method";
    case HttpError::kBadTarget: return "bad request target";
    case HttpError::kBadVersion: return "bad HTTP version";
    case HttpError::kWhitespaceAfterStartLine: return "whitespace after start line";
    case HttpError::kObsFold: return "obsolete line folding";
    case HttpError::kBadFieldName: return "bad field name";
    case HttpError::kWhitespaceBeforeColon: return "whitespace before colon";
    case HttpError::kMissingColon: return "field line without colon";
    case HttpError::kAmbiguousFieldName: return "framing field name with underscore";
    case HttpError::kBadFieldValue: return "bad field value";
    case HttpError::kMissingHost: return "missing Host";
    case HttpError::kDuplicateHost: return "duplicate Host";
    case HttpError::kBadHost: return "bad Host";
    case HttpError::kBadContentLength: return "bad Content-Length";
    case HttpError::kDifferentContentLengths: return "different Content-Length values";
    case HttpError::kContentLengthAndChunked: return "Content-Length with Transfer-Encoding";
    case HttpError::kBadTransferEncoding: return "bad Transfer-Encoding";
    case HttpError::kTransferEncodingInHttp10: return "Transfer-Encoding in HTTP/1.0";
    case HttpError::kBadConnection: return "bad Connection";
    case HttpError::kTooManyConnectionOptions: return "too many Connection options";
    case HttpError::kConnectWithContent: return "CONNECT with content";
    case HttpError::kBadChunkSize: return "bad chunk size";
    case HttpError::kBadChunkExtension: return "bad chunk extension";
    case HttpError::kChunkLineTooLong: return "chunk line too long";
    case HttpError::kTooMuchChunkExtension: return "too much chunk extension";
    case HttpError::kBadChunkTerminator: return "chunk data not followed by CRLF";
    case HttpError::kTruncated: return "truncated message";
    case HttpError::kBodyTooLarge: return "body too large";
    case HttpError::kStartLineTooLong: return "start line too long";
    case HttpError::kUnsupportedExpectation: return "unsupported expectation";
    case HttpError::kHeaderSectionTooLarge: return "header section too large";
    case HttpError::kTooManyFields: return "too many header fields";
    case HttpError::kUnsupportedTransferCoding: return "unsupported transfer coding";
    case HttpError::kUnsupportedVersion: return "unsupported HTTP version";
    case HttpError::kBadStatusLine: return "bad status line";
    case HttpError::kBadStatusCode: return "bad status code";
    case HttpError::kUnexpected101: return "unexpected 101";
    case HttpError::kUnsolicitedResponse: return "unsolicited response";
    case HttpError::kInvalidCall: return "invalid call";
    case HttpError::kCount: break;
  }
  return "unknown";
}

uint16_t RequestErrorStatus(HttpError e) {
  switch (e) {
    case HttpError::kNone: return 200;
    case HttpError::kBodyTooLarge: return 413;
    case HttpError::kStartLineTooLong: return 414;
    case HttpError::kUnsupportedExpectation: return 417;
    case HttpError::kHeaderSectionTooLarge:
    case HttpError::kTooManyFields: return 431;
    case HttpError::kUnsupportedTransferCoding: return 501;
    case HttpError::kUnsupportedVersion: return 505;
    case HttpError::kInvalidCall: return 500;
    default: return 400;
  }
}

}  // namespace locus::proxy::http
