// Response parsing: framing by request method and status, interim
// responses, tunnels, close-delimited bodies and the 502 cases. Every case
// runs whole, cut at every split point and one byte at a time.
#include <string>

#include "gtest/gtest.h"
#include "proxy/http/http_parser.h"
#include "proxy/http/parser_test_util.h"

namespace locus::proxy::http {
namespace {

using testing::AllSplits;
using testing::DriveOptions;
using testing::DriveResponse;

constexpr ResponseExpectation kGet{Method::kGet, false};
constexpr ResponseExpectation kHeadReq{Method::kHead, false};
constexpr ResponseExpectation kConnect{Method::kConnect, false};
constexpr ResponseExpectation kUpgrade{Method::kGet, true};

std::string Parse(std::string_view in, std::vector<ResponseExpectation> expectations = {kGet},
                  bool finish = false) {
  DriveOptions o;
  o.expectations = std::move(expectations);
  o.finish = finish;
  const std::string whole = DriveResponse(in, {}, o);
  for (const testing::Splits& s : AllSplits(in.size())) {
    const std::string split = DriveResponse(in, s, o);
    EXPECT_EQ(split, whole) << "split " << s[0] << (s.size() > 1 ? " (byte at a time)" : "");
    if (split != whole) break;
  }
  return whole;
}

std::string LastLine(const std::string& transcript) {
  std::string t = transcript;
  if (!t.empty() && t.back() == '\n') t.pop_back();
  const size_t nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

std::string ErrorLine(HttpError e) {
  return "ERROR " + std::string(HttpErrorName(e)) + " 502";
}

TEST(ResponseParserTest, ContentLength) {
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello"),
            "RESP 1.1 200 OK cl=5 ka=1\nF Content-Length: 5\nF Server: x\nBODY hello\nCOMPLETE\n");
}

TEST(ResponseParserTest, Chunked) {
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nServer-Timing: db;dur=53\r\n\r\n"),
            "RESP 1.1 200 OK chunked ka=1\nF Transfer-Encoding: chunked\nBODY abcde\n"
            "TRAILERS Server-Timing: db;dur=53\nCOMPLETE\n");
}

TEST(ResponseParserTest, ResponseBodiesHaveNoLimit) {
  Limits small;
  small.max_request_body = 1;
  ResponseParser p(small);
  p.ExpectResponse(kGet);
  ASSERT_EQ(p.Parse("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n").event, Event::kHead);
}

TEST(ResponseParserTest, CloseDelimitedBody) {
  // RFC 9112 §6.3 (8): no Content-Length, no Transfer-Encoding.
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\nServer: x\r\n\r\nall of this until close", {kGet}, true),
            "RESP 1.1 200 OK close-delimited ka=0\nF Server: x\n"
            "BODY all of this until close\nCOMPLETE\nDONE\n");
}

TEST(ResponseParserTest, CloseDelimitedEmptyBody) {
  EXPECT_EQ(Parse("HTTP/1.0 200 OK\r\n\r\n", {kGet}, true),
            "RESP 1.0 200 OK close-delimited ka=0\nCOMPLETE\nDONE\n");
}

TEST(ResponseParserTest, HeadResponseHasNoBody) {
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
                  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
                  {kHeadReq, kGet}),
            "RESP 1.1 200 OK none(cl=1234) ka=1\nF Content-Length: 1234\nCOMPLETE\n"
            "RESP 1.1 200 OK cl=2 ka=1\nF Content-Length: 2\nBODY hi\nCOMPLETE\n");
}

TEST(ResponseParserTest, HeadResponseIgnoresTransferEncoding) {
  EXPECT_EQ(LastLine(Parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", {kHeadReq})),
            "COMPLETE");
}

TEST(ResponseParserTest, NoContentAndNotModifiedHaveNoBody) {
  EXPECT_EQ(Parse("HTTP/1.1 204 No Content\r\n\r\n"
                  "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\nETag: \"x\"\r\n\r\n"
                  "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
                  {kGet, kGet, kGet}),
            "RESP 1.1 204 No Content none ka=1\nCOMPLETE\n"
            "RESP 1.1 304 Not Modified none(cl=99) ka=1\nF Content-Length: 99\nF ETag: \"x\"\n"
            "COMPLETE\n"
            "RESP 1.1 204 No Content none ka=1\nF Transfer-Encoding: chunked\nCOMPLETE\n");
}

TEST(ResponseParserTest, ContinueThenFinalResponse) {
  EXPECT_EQ(Parse("HTTP/1.1 100 Continue\r\n\r\n"
                  "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
                  "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"),
            "RESP 1.1 100 Continue none ka=0\n"
            "RESP 1.1 103 Early Hints none ka=0\nF Link: </s.css>; rel=preload\n"
            "RESP 1.1 201 Created cl=2 ka=1\nF Content-Length: 2\nBODY ok\nCOMPLETE\n");
}

TEST(ResponseParserTest, InterimResponseIsFlagged) {
  ResponseParser p;
  p.ExpectResponse(kGet);
  ASSERT_EQ(p.Parse("HTTP/1.1 100 Continue\r\n\r\n").event, Event::kHead);
  EXPECT_TRUE(p.head().interim());
  EXPECT_FALSE(p.head().tunnel());
}

TEST(ResponseParserTest, SwitchingProtocolsTunnels) {
  EXPECT_EQ(Parse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\n\r\n\x81\x02hi",
                  {kUpgrade}, true),
            "RESP 1.1 101 Switching Protocols none ka=0 tunnel\n"
            "F Upgrade: websocket [hop]\nF Connection: Upgrade\n"
            "TUNNEL \x81\x02hi\nDONE\n");
}

TEST(ResponseParserTest, Unexpected101) {
  EXPECT_EQ(LastLine(Parse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")),
            ErrorLine(HttpError::kUnexpected101));
}

TEST(ResponseParserTest, ConnectSuccessTunnelsIgnoringFraming) {
  // RFC 9110 §9.3.6: framing fields in a 2xx to CONNECT are ignored.
  EXPECT_EQ(Parse("HTTP/1.1 200 Connection Established\r\nContent-Length: 3\r\n\r\n\x16\x03\x03",
                  {kConnect}),
            "RESP 1.1 200 Connection Established none ka=0 tunnel\nF Content-Length: 3\n"
            "TUNNEL \x16\x03\x03\n");
}

TEST(ResponseParserTest, ConnectFailureHasABody) {
  EXPECT_EQ(Parse("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nno",
                  {kConnect}),
            "RESP 1.1 407 Proxy Authentication Required cl=2 ka=1\nF Content-Length: 2\n"
            "BODY no\nCOMPLETE\n");
}

TEST(ResponseParserTest, StatusLineWithoutReason) {
  EXPECT_EQ(Parse("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\nHTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n",
                  {kGet, kGet}),
            "RESP 1.1 200  cl=0 ka=1\nF Content-Length: 0\nCOMPLETE\n"
            "RESP 1.1 404  cl=0 ka=1\nF Content-Length: 0\nCOMPLETE\n");
}

TEST(ResponseParserTest, Http10KeepAlive) {
  EXPECT_EQ(Parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx"
                  "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\ny",
                  {kGet, kGet}),
            "RESP 1.0 200 OK cl=1 ka=1\nF Connection: keep-alive\nF Content-Length: 1\n"
            "BODY x\nCOMPLETE\n"
            "RESP 1.0 200 OK cl=1 ka=0\nF Content-Length: 1\nBODY y\nCOMPLETE\nDONE\n");
}

TEST(ResponseParserTest, ConnectionCloseEndsTheConnection) {
  EXPECT_EQ(LastLine(Parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
                           "HTTP/1.1 200 OK\r\n",
                           {kGet, kGet})),
            "DONE");
}

TEST(ResponseParserTest, WhitespaceBeforeColonIsRemoved) {
  // RFC 9112 §5.1: a proxy MUST remove it from a response; the field is
  // stored without it, so re-serialising drops it.
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\nContent-Length : 2\r\nX-A\t: b\r\n\r\nok"),
            "RESP 1.1 200 OK cl=2 ka=1\nF Content-Length: 2\nF X-A: b\nBODY ok\nCOMPLETE\n");
}

TEST(ResponseParserTest, UnderscoredNamesAreOrdinaryInResponses) {
  // Only requests reach CGI-style servers; clients do not fold '_' into '-'.
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\nContent_Length: 9\r\nContent-Length: 1\r\n\r\nx"),
            "RESP 1.1 200 OK cl=1 ka=1\nF Content_Length: 9\nF Content-Length: 1\nBODY x\n"
            "COMPLETE\n");
}

TEST(ResponseParserTest, UnsolicitedResponse) {
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n", {kGet}),
            "RESP 1.1 200 OK cl=0 ka=1\nF Content-Length: 0\nCOMPLETE\n" +
                ErrorLine(HttpError::kUnsolicitedResponse) + "\n");
  ResponseParser p;
  EXPECT_EQ(p.Parse("").event, Event::kNeedMore);
  EXPECT_EQ(p.Parse("H").event, Event::kError);
  EXPECT_EQ(p.error(), HttpError::kUnsolicitedResponse);
  EXPECT_EQ(p.error_status(), 502);
}

TEST(ResponseParserTest, ExpectResponseOutsideAwaitingIsInvalid) {
  ResponseParser p;
  p.ExpectResponse(kGet);
  p.ExpectResponse(kGet);
  EXPECT_EQ(p.error(), HttpError::kInvalidCall);
}

TEST(ResponseParserTest, ApiCallsAfterAnErrorKeepTheFirstReason) {
  ResponseParser p;
  p.ExpectResponse(kGet);
  EXPECT_EQ(p.Parse("HTTP/1.1 200 OK\n").event, Event::kError);
  p.ExpectResponse(kGet);
  EXPECT_EQ(p.error(), HttpError::kBareLf);
  RequestParser q;
  EXPECT_EQ(q.Parse("GET / HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n").event, Event::kError);
  q.AcceptUpgrade();
  q.RejectUpgrade();
  EXPECT_EQ(q.error(), HttpError::kDuplicateHost);
}

TEST(ResponseParserTest, ServerClosingEarlyIsTruncated) {
  EXPECT_EQ(Parse("", {kGet}, true), ErrorLine(HttpError::kTruncated) + "\n");
  EXPECT_EQ(LastLine(Parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", {kGet}, true)),
            ErrorLine(HttpError::kTruncated));
  EXPECT_EQ(LastLine(Parse("HTTP/1.1 100 Continue\r\n\r\n", {kGet}, true)),
            ErrorLine(HttpError::kTruncated));
  EXPECT_EQ(LastLine(Parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab", {kGet},
                           true)),
            ErrorLine(HttpError::kTruncated));
}

TEST(ResponseParserTest, Rejections) {
  struct Case {
    const char* input;
    HttpError error;
  };
  const Case cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
       HttpError::kContentLengthAndChunked},
      {"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
       HttpError::kContentLengthAndChunked},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
       HttpError::kDifferentContentLengths},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", HttpError::kBadContentLength},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", HttpError::kBadTransferEncoding},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       HttpError::kBadTransferEncoding},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
       HttpError::kBadTransferEncoding},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;\r\n\r\n", HttpError::kBadTransferEncoding},
      {"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
       HttpError::kTransferEncodingInHttp10},
      {"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", HttpError::kObsFold},
      {"HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n", HttpError::kBadFieldValue},
      {"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", HttpError::kBareLf},
      {"HTTP/1.1 200 O\rK\r\n\r\n", HttpError::kBareCr},
      {"HTTP/1.1 20 OK\r\n\r\n", HttpError::kBadStatusCode},
      {"HTTP/1.1 099 Nope\r\n\r\n", HttpError::kBadStatusCode},
      {"HTTP/1.1 600 Nope\r\n\r\n", HttpError::kBadStatusCode},
      {"HTTP/1.1 2x0 OK\r\n\r\n", HttpError::kBadStatusCode},
      {"HTTP/1.1 2000 OK\r\n\r\n", HttpError::kBadStatusLine},
      {"HTTP/1.1  200 OK\r\n\r\n", HttpError::kBadStatusCode},
      {"HTTP/1.1 200 O\x01K\r\n\r\n", HttpError::kBadStatusLine},
      {"http/1.1 200 OK\r\n\r\n", HttpError::kBadStatusLine},
      {"HTTP/1.1\r\n\r\n", HttpError::kBadStatusLine},
      {"ICY 200 OK\r\n\r\n", HttpError::kBadStatusLine},
      {"HTTP/2.0 200 OK\r\n\r\n", HttpError::kUnsupportedVersion},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n", HttpError::kBadChunkSize},
      {"HTTP/1.1 200 OK\r\nX@: y\r\n\r\n", HttpError::kBadFieldName},
      {"HTTP/1.1 200 OK\r\nX y: z\r\n\r\n", HttpError::kBadFieldName},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(LastLine(Parse(c.input)), ErrorLine(c.error)) << c.input;
  }
}

TEST(ResponseParserTest, ResponseHeaderLimitsAre502) {
  DriveOptions o;
  o.expectations = {kGet};
  o.limits.max_header_count = 2;
  EXPECT_EQ(LastLine(DriveResponse("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nContent-Length: 0\r\n\r\n",
                                   {}, o)),
            ErrorLine(HttpError::kTooManyFields));
  o.limits.max_start_line = 15;
  EXPECT_EQ(LastLine(DriveResponse("HTTP/1.1 200 OK\r\n\r\n", {}, o)), "RESP 1.1 200 OK close-delimited ka=0");
  EXPECT_EQ(LastLine(DriveResponse("HTTP/1.1 200 OKK\r\n\r\n", {}, o)),
            ErrorLine(HttpError::kStartLineTooLong));
}

TEST(ResponseParserTest, PipelinedResponsesFollowTheirRequests) {
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"
                  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"
                  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"
                  "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nxyz",
                  {kHeadReq, kGet, kGet, kGet}),
            "RESP 1.1 200 OK none(cl=3) ka=1\nF Content-Length: 3\nCOMPLETE\n"
            "RESP 1.1 200 OK chunked ka=1\nF Transfer-Encoding: chunked\nBODY a\nCOMPLETE\n"
            "RESP 1.1 100 Continue none ka=0\n"
            "RESP 1.1 204 No Content none ka=1\nCOMPLETE\n"
            "RESP 1.1 200 OK cl=3 ka=1\nF Content-Length: 3\nBODY xyz\nCOMPLETE\n");
}

}  // namespace
}  // namespace locus::proxy::http
