// Request parsing. Every case runs whole, cut at every split point and one
// byte at a time; all runs must give the same transcript.
#include "proxy/http/http_parser.h"

#include <string>

#include "gtest/gtest.h"
#include "proxy/http/parser_test_util.h"

namespace locus::proxy::http {
namespace {

using testing::AllSplits;
using testing::DriveOptions;
using testing::DriveRequest;
using testing::OneByteAtATime;

// The transcript of `in` fed at once, after checking that every split gives
// the same one.
std::string Parse(std::string_view in, const DriveOptions& options = {}) {
  const std::string whole = DriveRequest(in, {}, options);
  for (const testing::Splits& s : AllSplits(in.size())) {
    const std::string split = DriveRequest(in, s, options);
    EXPECT_EQ(split, whole) << "split " << (s.size() == 1 ? s[0] : 0) << " of " << in.size()
                            << (s.size() > 1 ? " (byte at a time)" : "");
    if (split != whole) break;
  }
  return whole;
}

// Large inputs: whole and one byte at a time only.
std::string ParseLarge(std::string_view in, const DriveOptions& options = {}) {
  const std::string whole = DriveRequest(in, {}, options);
  EXPECT_EQ(DriveRequest(in, OneByteAtATime(in.size()), options), whole);
  EXPECT_EQ(DriveRequest(in, {in.size() / 2}, options), whole);
  return whole;
}

std::string LastLine(const std::string& transcript) {
  std::string t = transcript;
  if (!t.empty() && t.back() == '\n') t.pop_back();
  const size_t nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

std::string ErrorLine(HttpError e) {
  return "ERROR " + std::string(HttpErrorName(e)) + " " + std::to_string(RequestErrorStatus(e));
}

#define EXPECT_REJECTED(input, error, status)                     \
  do {                                                           \
    EXPECT_EQ(RequestErrorStatus(error), status);                \
    EXPECT_EQ(LastLine(Parse(input)), ErrorLine(error)) << input; \
  } while (0)

// ---------------------------------------------------------------- basics

TEST(RequestParserTest, SimpleGet) {
  EXPECT_EQ(Parse("GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"),
            "REQ GET /index.html?q=1 1.1 host=example.com none ka=1\n"
            "F Host: example.com\n"
            "F Accept: */*\n"
            "COMPLETE\n");
}

TEST(RequestParserTest, FieldValuesAreTrimmedAndKeepInnerWhitespace) {
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost:a\r\nX-A: \t one  two \t\r\nX-Empty:\r\nX-B:  \r\n\r\n"),
            "REQ GET / 1.1 host=a none ka=1\n"
            "F Host: a\n"
            "F X-A: one  two\n"
            "F X-Empty: \n"
            "F X-B: \n"
            "COMPLETE\n");
}

TEST(RequestParserTest, ObsTextInValueIsKept) {
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n"),
            "REQ GET / 1.1 host=a none ka=1\nF Host: a\nF X: caf\xc3\xa9\nCOMPLETE\n");
}

TEST(RequestParserTest, PostWithContentLength) {
  EXPECT_EQ(Parse("POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world"),
            "REQ POST /form 1.1 host=h cl=11 ka=1\n"
            "F Host: h\n"
            "F Content-Length: 11\n"
            "BODY hello world\n"
            "COMPLETE\n");
}

TEST(RequestParserTest, ContentLengthZero) {
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"),
            "REQ POST / 1.1 host=h cl=0 ka=1\nF Host: h\nF Content-Length: 0\nCOMPLETE\n");
}

TEST(RequestParserTest, ContentLengthWithLeadingZeros) {
  EXPECT_EQ(LastLine(Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n1234567")),
            "COMPLETE");
}

TEST(RequestParserTest, IdenticalContentLengthLinesAreOne) {
  // RFC 9110 §8.6 lets a recipient accept identical duplicates; we re-frame
  // with one Content-Length, so nobody downstream sees the duplicate.
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"),
            "REQ POST / 1.1 host=h cl=3 ka=1\n"
            "F Host: h\nF Content-Length: 3\nF Content-Length: 3\n"
            "BODY abc\nCOMPLETE\n");
}

TEST(RequestParserTest, MethodsAreCaseSensitiveTokens) {
  EXPECT_EQ(Parse("get / HTTP/1.1\r\nHost: h\r\n\r\n"),
            "REQ get / 1.1 host=h none ka=1\nF Host: h\nCOMPLETE\n");
  RequestParser p;
  ASSERT_EQ(p.Parse("PURGE /x HTTP/1.1\r\nHost: h\r\n\r\n").event, Event::kHead);
  EXPECT_EQ(p.head().method(), Method::kOther);
  EXPECT_EQ(p.head().method_text(), "PURGE");
  RequestParser q;
  ASSERT_EQ(q.Parse("get / HTTP/1.1\r\nHost: h\r\n\r\n").event, Event::kHead);
  EXPECT_EQ(q.head().method(), Method::kOther);
}

TEST(RequestParserTest, KnownMethods) {
  for (const char* m : {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"}) {
    RequestParser p;
    const std::string req = std::string(m) + " / HTTP/1.1\r\nHost: h\r\n\r\n";
    ASSERT_EQ(p.Parse(req).event, Event::kHead) << m;
    EXPECT_EQ(MethodName(p.head().method()), m);
  }
}

TEST(RequestParserTest, Http10WithoutHostClosesAfterMessage) {
  EXPECT_EQ(Parse("GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n"),
            "REQ GET / 1.0 host= none ka=0\nCOMPLETE\nDONE\n");
}

TEST(RequestParserTest, Http10KeepAlive) {
  EXPECT_EQ(Parse("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n"),
            "REQ GET /a 1.0 host= none ka=1\nF Connection: keep-alive\nCOMPLETE\n"
            "REQ GET /b 1.0 host= none ka=0\nCOMPLETE\nDONE\n");
}

TEST(RequestParserTest, ConnectionCloseStopsParsing) {
  // RFC 9112 §9.6: no further requests are processed after "close".
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /x HTTP/1.1\r\n"),
            "REQ GET / 1.1 host=h none ka=0\nF Host: h\nF Connection: close\nCOMPLETE\nDONE\n");
}

TEST(RequestParserTest, Http12IsReadAsHttp11) {
  // RFC 9110 §2.5: a higher minor version of a known major is read as ours.
  EXPECT_EQ(Parse("GET / HTTP/1.2\r\nHost: h\r\n\r\n"),
            "REQ GET / 1.1 host=h none ka=1\nF Host: h\nCOMPLETE\n");
}

TEST(RequestParserTest, LeadingEmptyLinesAreIgnored) {
  EXPECT_EQ(Parse("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"),
            "REQ GET / 1.1 host=h none ka=1\nF Host: h\nCOMPLETE\n");
}

TEST(RequestParserTest, LeadingEmptyLinesAtLimitAndOver) {
  std::string ok;
  for (uint32_t i = 0; i < kMaxLeadingEmptyLines; ++i) ok += "\r\n";
  ok += "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  EXPECT_EQ(LastLine(Parse(ok)), "COMPLETE");
  EXPECT_REJECTED("\r\n" + ok, HttpError::kTooManyEmptyLines, 400);
}

// ------------------------------------------------------------ pipelining

TEST(RequestParserTest, PipelinedRequestsInOneBuffer) {
  EXPECT_EQ(Parse("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
                  "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody"
                  "PUT /3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3\r\nabc\r\n0\r\n\r\n"
                  "GET /4 HTTP/1.1\r\nHost: h\r\n\r\n"),
            "REQ GET /1 1.1 host=h none ka=1\nF Host: h\nCOMPLETE\n"
            "REQ POST /2 1.1 host=h cl=4 ka=1\nF Host: h\nF Content-Length: 4\nBODY body\nCOMPLETE\n"
            "REQ PUT /3 1.1 host=h chunked ka=1\nF Host: h\nF Transfer-Encoding: chunked\n"
            "BODY abc\nCOMPLETE\n"
            "REQ GET /4 1.1 host=h none ka=1\nF Host: h\nCOMPLETE\n");
}

TEST(RequestParserTest, EmptyLineBetweenPipelinedRequestsIsIgnored) {
  EXPECT_EQ(LastLine(Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx\r\n"
                           "GET / HTTP/1.1\r\nHost: h\r\n\r\n")),
            "COMPLETE");
}

// --------------------------------------------------------------- chunked

TEST(RequestParserTest, ChunkedWithExtensionsAndTrailers) {
  EXPECT_EQ(Parse("POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5;name=value;flag\r\nhello\r\n"
                  "6 ; q=\"a \\\"quoted\\\" ;, value\"\r\n world\r\n"
                  "A\r\n0123456789\r\n"
                  "000;last\r\n"
                  "Checksum: abc\r\nX-Trailer:  t \r\n\r\n"),
            "REQ POST /up 1.1 host=h chunked ka=1\n"
            "F Host: h\nF Transfer-Encoding: chunked\n"
            "BODY hello world0123456789\n"
            "TRAILERS Checksum: abc; X-Trailer: t\n"
            "COMPLETE\n");
}

TEST(RequestParserTest, ChunkedUppercaseAndLeadingZeroSizes) {
  EXPECT_EQ(LastLine(Parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: CHUNKED\r\n\r\n"
                           "0000A\r\n0123456789\r\n0\r\n\r\n")),
            "COMPLETE");
}

TEST(RequestParserTest, TransferEncodingEmptyListElementsAreIgnored) {
  // RFC 9110 §5.6.1: recipients ignore empty list elements.
  EXPECT_EQ(LastLine(Parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , chunked ,\r\n\r\n"
                           "0\r\n\r\n")),
            "COMPLETE");
}

TEST(RequestParserTest, ChunkedTrailersMayUseTab) {
  EXPECT_EQ(LastLine(Parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\tchunked\t\r\n\r\n"
                           "1\r\nx\r\n0\r\nA:\tb\r\n\r\n")),
            "COMPLETE");
}

// ------------------------------------------------------ upgrade, CONNECT

TEST(RequestParserTest, WebSocketUpgradeHandsOverTheStream) {
  DriveOptions o;
  o.accept_upgrade = true;
  EXPECT_EQ(Parse("GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                  "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: x\r\n\r\n"
                  "\x81\x05hello GET / HTTP/1.1\r\n",
                  o),
            "REQ GET /chat 1.1 host=h none ka=1 upgrade\n"
            "F Host: h\nF Upgrade: websocket [hop]\nF Connection: keep-alive, Upgrade\n"
            "F Sec-WebSocket-Key: x\n"
            "COMPLETE\nPAUSED\n"
            "TUNNEL \x81\x05hello GET / HTTP/1.1\r\n\n");
}

TEST(RequestParserTest, RejectedUpgradeContinuesWithNextRequest) {
  DriveOptions o;
  o.reject_upgrade = true;
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n"
                  "GET /next HTTP/1.1\r\nHost: h\r\n\r\n",
                  o),
            "REQ GET / 1.1 host=h none ka=1 upgrade\n"
            "F Host: h\nF Upgrade: h2c [hop]\nF Connection: upgrade\n"
            "COMPLETE\nPAUSED\n"
            "REQ GET /next 1.1 host=h none ka=1\nF Host: h\nCOMPLETE\n");
}

TEST(RequestParserTest, UpgradeWithoutConnectionOptionIsNoUpgrade) {
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n"),
            "REQ GET / 1.1 host=h none ka=1\nF Host: h\nF Upgrade: websocket\nCOMPLETE\n");
}

TEST(RequestParserTest, UpgradeIsIgnoredInHttp10) {
  // RFC 9110 §7.8.
  EXPECT_EQ(LastLine(Parse("GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n")),
            "DONE");
}

TEST(RequestParserTest, UpgradeRequestBodyComesBeforeThePause) {
  DriveOptions o;
  o.accept_upgrade = true;
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
                  "Content-Length: 3\r\n\r\nabcPRI",
                  o),
            "REQ POST / 1.1 host=h cl=3 ka=1 upgrade\n"
            "F Host: h\nF Upgrade: h2c [hop]\nF Connection: Upgrade\nF Content-Length: 3\n"
            "BODY abc\nCOMPLETE\nPAUSED\nTUNNEL PRI\n");
}

TEST(RequestParserTest, ConnectPausesThenTunnels) {
  DriveOptions o;
  o.accept_upgrade = true;
  EXPECT_EQ(Parse("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01",
                  o),
            "REQ CONNECT example.com:443 1.1 host=example.com:443 none ka=1\n"
            "F Host: example.com:443\nCOMPLETE\nPAUSED\nTUNNEL \x16\x03\x01\n");
}

TEST(RequestParserTest, UpgradeCallsOutsidePauseAreInvalid) {
  RequestParser p;
  p.AcceptUpgrade();
  EXPECT_EQ(p.error(), HttpError::kInvalidCall);
  EXPECT_EQ(p.Parse("GET / HTTP/1.1\r\n").event, Event::kError);
}

// -------------------------------------------------------- Expect, Host

TEST(RequestParserTest, ExpectContinueIsExposed) {
  EXPECT_EQ(Parse("PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok"),
            "REQ PUT /f 1.1 host=h cl=2 ka=1 continue\n"
            "F Host: h\nF Expect: 100-Continue\nF Content-Length: 2\nBODY ok\nCOMPLETE\n");
}

TEST(RequestParserTest, ExpectContinueIsIgnoredInHttp10) {
  RequestParser p;
  ASSERT_EQ(p.Parse("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").event, Event::kHead);
  EXPECT_FALSE(p.head().expect_continue());
}

TEST(RequestParserTest, OtherExpectationsAre417) {
  EXPECT_REJECTED("GET / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n",
                  HttpError::kUnsupportedExpectation, 417);
  EXPECT_REJECTED("GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue, x\r\n\r\n",
                  HttpError::kUnsupportedExpectation, 417);
  EXPECT_REJECTED("GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue=1\r\n\r\n",
                  HttpError::kUnsupportedExpectation, 417);
}

TEST(RequestParserTest, MissingHostIn11) {
  EXPECT_REJECTED("GET / HTTP/1.1\r\nAccept: x\r\n\r\n", HttpError::kMissingHost, 400);
  // RFC 9112 §3.2: the client MUST send Host even with an absolute-form target.
  EXPECT_REJECTED("GET http://a/ HTTP/1.1\r\n\r\n", HttpError::kMissingHost, 400);
}

TEST(RequestParserTest, DuplicateHost) {
  EXPECT_REJECTED("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", HttpError::kDuplicateHost, 400);
  EXPECT_REJECTED("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", HttpError::kDuplicateHost, 400);
}

TEST(RequestParserTest, InvalidHost) {
  for (const char* host : {"a b", "a@b", "a:99999", "a:8x", "[::1", "[]", ":80", "a/b", "a%zz"}) {
    EXPECT_REJECTED("GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n",
                    HttpError::kBadHost, 400);
  }
}

TEST(RequestParserTest, ValidHosts) {
  for (const char* host : {"a", "a.b.c:8080", "[::1]:443", "[2001:db8::1]", "10.0.0.1", "a:",
                           "x%41y", "a-b_c~d"}) {
    RequestParser p;
    // The head's views point into `req`: it must outlive them.
    const std::string req = "GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n";
    ASSERT_EQ(p.Parse(req).event, Event::kHead)
        << host << " " << HttpErrorName(p.error());
    EXPECT_EQ(p.head().host(), host);
  }
}

TEST(RequestParserTest, EmptyHostIsAllowed) {
  // RFC 9110 §7.2: an empty Host when the target URI has no authority.
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost:\r\n\r\n"),
            "REQ GET / 1.1 host= none ka=1\nF Host: \nCOMPLETE\n");
}

// ------------------------------------------------------- request targets

TEST(RequestParserTest, AbsoluteFormTakesHostFromTarget) {
  RequestParser p;
  ASSERT_EQ(p.Parse("GET http://Example.COM:8080/p/a?q=1 HTTP/1.1\r\nHost: other\r\n\r\n").event,
            Event::kHead);
  EXPECT_EQ(p.head().target_form(), TargetForm::kAbsolute);
  EXPECT_EQ(p.head().host(), "Example.COM:8080");
  EXPECT_EQ(p.head().target_authority(), "Example.COM:8080");
  EXPECT_EQ(p.head().path(), "/p/a?q=1");
  EXPECT_EQ(p.head().fields().Get("host"), "other");
}

TEST(RequestParserTest, AbsoluteFormWithoutPath) {
  RequestParser p;
  ASSERT_EQ(p.Parse("GET https://h HTTP/1.1\r\nHost: h\r\n\r\n").event, Event::kHead);
  EXPECT_EQ(p.head().path(), "");
  RequestParser q;
  ASSERT_EQ(q.Parse("GET HTTP://h?x=1 HTTP/1.1\r\nHost: h\r\n\r\n").event, Event::kHead);
  EXPECT_EQ(q.head().path(), "?x=1");
  EXPECT_EQ(q.head().host(), "h");
}

TEST(RequestParserTest, AsteriskFormOnlyForOptions) {
  RequestParser p;
  ASSERT_EQ(p.Parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").event, Event::kHead);
  EXPECT_EQ(p.head().target_form(), TargetForm::kAsterisk);
  EXPECT_REJECTED("GET * HTTP/1.1\r\nHost: h\r\n\r\n", HttpError::kBadTarget, 400);
}

TEST(RequestParserTest, BadTargets) {
  for (const char* line : {
           "GET /a#frag HTTP/1.1",            // fragments are not sent (RFC 9112 §3.2)
           "GET /caf\xc3\xa9 HTTP/1.1",       // non-ASCII
           "GET /a\x7f HTTP/1.1",             // DEL
           "GET example.com:80 HTTP/1.1",     // authority-form without CONNECT
           "GET ftp://h/ HTTP/1.1",           // not http(s)
           "GET http:/h/ HTTP/1.1",
           "GET http://user@h/ HTTP/1.1",     // userinfo (RFC 9110 §4.2.4)
           "GET http:///p HTTP/1.1",          // empty host (RFC 9110 §4.2.1)
           "GET http://h:port/ HTTP/1.1",
           "CONNECT example.com HTTP/1.1",    // no port (RFC 9112 §3.2.3)
           "CONNECT /x HTTP/1.1",
           "CONNECT h:99999 HTTP/1.1",
       }) {
    EXPECT_REJECTED(std::string(line) + "\r\nHost: h\r\n\r\n", HttpError::kBadTarget, 400);
  }
}

// --------------------------------------------------- request-line syntax

TEST(RequestParserTest, MalformedRequestLines) {
  EXPECT_REJECTED("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", HttpError::kBadRequestLine, 400);
  EXPECT_REJECTED(" GET / HTTP/1.1\r\nHost: h\r\n\r\n", HttpError::kBadRequestLine, 400);
  EXPECT_REJECTED("GET /\r\nHost: h\r\n\r\n", HttpError::kBadRequestLine, 400);
  EXPECT_REJECTED("GET\r\n\r\n", HttpError::kBadRequestLine, 400);
  EXPECT_REJECTED("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", HttpError::kBadVersion, 400);
  EXPECT_REJECTED("GET /  HTTP/1.1\r\nHost: h\r\n\r\n", HttpError::kBadVersion, 400);
}

TEST(RequestParserTest, InvalidMethodCharacters) {
  for (const char* m : {"GE(T", "GE/T", "G\"ET", "GET\t/", "G\x01T", "G\xc3\xa9T", "GE{T"}) {
    EXPECT_REJECTED(std::string(m) + " / HTTP/1.1\r\nHost: h\r\n\r\n", HttpError::kBadMethod, 400);
  }
}

TEST(RequestParserTest, MalformedVersions) {
  for (const char* v : {"http/1.1", "HTTP/1.10", "HTTP/11", "HTTP/1", "HTTP/1.x", "HTTP 1.1",
                        "HTTPS/1.1", "HTTP/1.1.1"}) {
    EXPECT_REJECTED("GET / " + std::string(v) + "\r\nHost: h\r\n\r\n", HttpError::kBadVersion,
                    400);
  }
}

TEST(RequestParserTest, UnsupportedVersionsAre505) {
  EXPECT_REJECTED("GET / HTTP/2.0\r\nHost: h\r\n\r\n", HttpError::kUnsupportedVersion, 505);
  EXPECT_REJECTED("GET / HTTP/0.9\r\nHost: h\r\n\r\n", HttpError::kUnsupportedVersion, 505);
  EXPECT_REJECTED("GET / HTTP/3.0\r\nHost: h\r\n\r\n", HttpError::kUnsupportedVersion, 505);
  // The HTTP/2 connection preface.
  EXPECT_REJECTED("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", HttpError::kUnsupportedVersion, 505);
}

// ------------------------------------------------------ line terminators

TEST(RequestParserTest, BareLfIsRejected) {
  // RFC 9112 §2.2 lets a recipient accept a bare LF; we do not (see README).
  EXPECT_REJECTED("GET / HTTP/1.1\nHost: h\r\n\r\n", HttpError::kBareLf, 400);
  EXPECT_REJECTED("GET / HTTP/1.1\r\nHost: h\n\r\n", HttpError::kBareLf, 400);
  EXPECT_REJECTED("GET / HTTP/1.1\r\nHost: h\r\n\n", HttpError::kBareLf, 400);
  EXPECT_REJECTED("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", HttpError::kBareLf, 400);
}

TEST(RequestParserTest, BareCrIsRejected) {
  // RFC 9112 §2.2: a bare CR makes the element invalid.
  EXPECT_REJECTED("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", HttpError::kBareCr, 400);
  EXPECT_REJECTED("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", HttpError::kBareCr, 400);
  EXPECT_REJECTED("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\r\n\r\n", HttpError::kBareCr, 400);
  EXPECT_REJECTED("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n", HttpError::kBareCr, 400);
}

// ------------------------------------------------------------ field lines

TEST(RequestParserTest, ObsFoldIsRejected) {
  // RFC 9112 §5.2.
  EXPECT_REJECTED("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", HttpError::kObsFold, 400);
  EXPECT_REJECTED("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", HttpError::kObsFold, 400);
  EXPECT_REJECTED(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip,\r\n chunked\r\n\r\n0\r\n\r\n",
      HttpError::kObsFold, 400);
}

TEST(RequestParserTest, WhitespaceBeforeFirstFieldIsRejected) {
  // RFC 9112 §2.2.
  EXPECT_REJECTED("GET / HTTP/1.1\r\n Host: h\r\n\r\n", HttpError::kWhitespaceAfterStartLine, 400);
}

TEST(RequestParserTest, WhitespaceBeforeColonIsRejected) {
  // RFC 9112 §5.1: MUST reject with 400.
  EXPECT_REJECTED("GET / HTTP/1.1\r\nHost : h\r\n\r\n", HttpError::kWhitespaceBeforeColon, 400);
  EXPECT_REJECTED("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding\t: chunked\r\n\r\n",
                  HttpError::kWhitespaceBeforeColon, 400);
}

TEST(RequestParserTest, InvalidFieldNames) {
  for (const char* line : {": empty", "X@Y: v", "X\"Y: v", "X(Y): v", "X\x01: v",
                           "\xc3\xa9: v", "X/Y: v", "X[: v"}) {
    EXPECT_REJECTED("GET / HTTP/1.1\r\nHost: h\r\n" + std::string(line) + "\r\n\r\n",
                    HttpError::kBadFieldName, 400);
  }
  EXPECT_REJECTED("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", HttpError::kMissingColon, 400);
}

TEST(RequestParserTest, InvalidFieldValueCharacters) {
  // RFC 9110 §5.5: NUL, CR, LF and other CTLs are invalid (we reject all).
  for (char c : {'\0', '\x01', '\x08', '\x0b', '\x0c', '\x1f', '\x7f'}) {
    std::string req = "GET / HTTP/1.1\r\nHost: h\r\nX: a";
    req += c;
    req += "b\r\n\r\n";
    EXPECT_REJECTED(req, HttpError::kBadFieldValue, 400);
  }
}

TEST(RequestParserTest, UnderscoredFramingFieldNames) {
  for (const char* name : {"Content_Length", "content_length", "Transfer_Encoding",
                           "Transfer-encoding_", "transfer_encoding"}) {
    const std::string req =
        "POST / HTTP/1.1\r\nHost: h\r\n" + std::string(name) + ": 5\r\n\r\n";
    if (std::string_view(name).size() == 18) {
      // Not the same length as the real name: an ordinary field.
      EXPECT_EQ(LastLine(Parse(req)), "COMPLETE");
    } else {
      EXPECT_REJECTED(req, HttpError::kAmbiguousFieldName, 400);
    }
  }
  EXPECT_EQ(LastLine(Parse("GET / HTTP/1.1\r\nHost: h\r\nX_Custom_Name: 1\r\n\r\n")), "COMPLETE");
}

// ------------------------------------------------- Content-Length rules

TEST(RequestParserTest, BadContentLengths) {
  for (const char* v : {"", "abc", "-1", "+5", "5 5", "0x10", "5,5", "5, 5", "1.0", "5;",
                        "18446744073709551616", "99999999999999999999999"}) {
    EXPECT_REJECTED("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::string(v) +
                        "\r\n\r\n",
                    HttpError::kBadContentLength, 400);
  }
}

TEST(RequestParserTest, DifferentContentLengths) {
  EXPECT_REJECTED("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                  HttpError::kDifferentContentLengths, 400);
  // Equal numbers, different bytes: not "identical values".
  EXPECT_REJECTED("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 05\r\n\r\n",
                  HttpError::kDifferentContentLengths, 400);
}

TEST(RequestParserTest, LargestContentLengthParsesThenHitsBodyLimit) {
  EXPECT_REJECTED("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551615\r\n\r\n",
                  HttpError::kBodyTooLarge, 413);
}

// ---------------------------------------------- Transfer-Encoding rules

TEST(RequestParserTest, ContentLengthWithTransferEncoding) {
  // RFC 9112 §6.1/§6.3: a proxy must not forward it; we reject.
  EXPECT_REJECTED("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                  HttpError::kContentLengthAndChunked, 400);
  EXPECT_REJECTED("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                  "Content-Length: 0\r\n\r\n0\r\n\r\n",
                  HttpError::kContentLengthAndChunked, 400);
}

TEST(RequestParserTest, TransferEncodingNotEndingInChunkedIs400) {
  // RFC 9112 §6.3 (4): the length cannot be determined.
  for (const char* te : {"chunked, gzip", "gzip", "identity", "xchunked", "chunkedx", "chunked;",
                         "chunked;a=b", "chunked ;", "chunked, chunked", "\"chunked\"",
                         "chunked gzip", "", ",", "\xc3\xa9", "gzip;", "gzip;q", "gzip;q=\"1"}) {
    EXPECT_REJECTED("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: " + std::string(te) +
                        "\r\n\r\n0\r\n\r\n",
                    HttpError::kBadTransferEncoding, 400);
  }
}

TEST(RequestParserTest, TransferEncodingAcrossLinesConcatenates) {
  EXPECT_REJECTED("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                  "Transfer-Encoding: gzip\r\n\r\n",
                  HttpError::kBadTransferEncoding, 400);
  EXPECT_REJECTED("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n",
                  HttpError::kBadTransferEncoding, 400);
  EXPECT_REJECTED("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n",
                  HttpError::kUnsupportedTransferCoding, 501);
}

TEST(RequestParserTest, CodingsBeforeChunkedAre501) {
  // RFC 9112 §6.1: a transfer coding the server does not understand -> 501.
  for (const char* te : {"gzip, chunked", "deflate,chunked", "gzip;q=1, chunked",
                         "x-custom ; a=\"b,c\" , chunked"}) {
    EXPECT_REJECTED("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: " + std::string(te) +
                        "\r\n\r\n0\r\n\r\n",
                    HttpError::kUnsupportedTransferCoding, 501);
  }
}

TEST(RequestParserTest, TransferEncodingInHttp10) {
  EXPECT_REJECTED("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                  HttpError::kTransferEncodingInHttp10, 400);
}

TEST(RequestParserTest, ConnectWithContent) {
  EXPECT_REJECTED("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nContent-Length: 5\r\n\r\n",
                  HttpError::kConnectWithContent, 400);
  EXPECT_REJECTED("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nTransfer-Encoding: chunked\r\n\r\n",
                  HttpError::kConnectWithContent, 400);
}

// -------------------------------------------------------- chunk framing

std::string Chunked(std::string_view body) {
  return "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(body);
}

TEST(RequestParserTest, BadChunkSizes) {
  for (const char* c : {"g\r\n", "-5\r\n", "0x5\r\n", "\r\n", " 5\r\n", "5x\r\n",
                        "+5\r\n", "fffffffffffffffff\r\n"}) {
    EXPECT_REJECTED(Chunked(c), HttpError::kBadChunkSize, 400);
  }
}

TEST(RequestParserTest, HugeChunkSizeHitsBodyLimit) {
  EXPECT_REJECTED(Chunked("ffffffffffffffff\r\n"), HttpError::kBodyTooLarge, 413);
}

TEST(RequestParserTest, BadChunkExtensions) {
  for (const char* c : {"5;\r\n", "5 \r\n", "5;a=\r\n", "5;=b\r\n", "5;a=\"open\r\n",
                        "5;a=b c\r\n", "5;a b\r\n", "2 erfrferferf\r\n", "5;a=\"\\\x01\"\r\n",
                        "5;a=b;\r\n", "5;\x01\r\n"}) {
    EXPECT_REJECTED(Chunked(c), HttpError::kBadChunkExtension, 400);
  }
}

TEST(RequestParserTest, ChunkLineTerminators) {
  EXPECT_REJECTED(Chunked("5\nhello\r\n0\r\n\r\n"), HttpError::kBareLf, 400);
  EXPECT_REJECTED(Chunked("5\rx\r\nhello\r\n0\r\n\r\n"), HttpError::kBareCr, 400);
  EXPECT_REJECTED(Chunked("5\r\nhelloX\r\n0\r\n\r\n"), HttpError::kBadChunkTerminator, 400);
  EXPECT_REJECTED(Chunked("5\r\nhello\n0\r\n\r\n"), HttpError::kBadChunkTerminator, 400);
  EXPECT_REJECTED(Chunked("5\r\nhello\rX0\r\n\r\n"), HttpError::kBadChunkTerminator, 400);
  EXPECT_REJECTED(Chunked("5\r\nhello\r\n0\r\n\n"), HttpError::kBareLf, 400);
}

TEST(RequestParserTest, TrailerSyntaxIsChecked) {
  EXPECT_REJECTED(Chunked("0\r\nX: a\r\n b\r\n\r\n"), HttpError::kObsFold, 400);
  EXPECT_REJECTED(Chunked("0\r\nX : a\r\n\r\n"), HttpError::kWhitespaceBeforeColon, 400);
  EXPECT_REJECTED(Chunked("0\r\n X: a\r\n\r\n"), HttpError::kBadFieldName, 400);
  EXPECT_REJECTED(Chunked("0\r\nX: \x01\r\n\r\n"), HttpError::kBadFieldValue, 400);
}

// ------------------------------------------------------ Connection options

TEST(RequestParserTest, ConnectionOptionsMarkFieldsHopByHop) {
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: x-secret, Keep-Alive\r\n"
                  "X-Secret: 1\r\nKeep-Alive: timeout=5\r\nX-Kept: 2\r\n\r\n"),
            "REQ GET / 1.1 host=h none ka=1\n"
            "F Host: h\nF Connection: x-secret, Keep-Alive\nF X-Secret: 1 [hop]\n"
            "F Keep-Alive: timeout=5 [hop]\nF X-Kept: 2\nCOMPLETE\n");
}

TEST(RequestParserTest, BadConnectionValue) {
  EXPECT_REJECTED("GET / HTTP/1.1\r\nHost: h\r\nConnection: a b\r\n\r\n",
                  HttpError::kBadConnection, 400);
  EXPECT_REJECTED("GET / HTTP/1.1\r\nHost: h\r\nConnection: \"close\"\r\n\r\n",
                  HttpError::kBadConnection, 400);
}

TEST(RequestParserTest, ConnectionOptionsAtLimitAndOver) {
  std::string options;
  for (uint32_t i = 0; i < kMaxConnectionOptions; ++i) options += "o" + std::to_string(i) + ",";
  EXPECT_EQ(LastLine(ParseLarge("GET / HTTP/1.1\r\nHost: h\r\nConnection: " + options +
                                "\r\n\r\n")),
            "COMPLETE");
  EXPECT_EQ(LastLine(ParseLarge("GET / HTTP/1.1\r\nHost: h\r\nConnection: " + options +
                                "one-more\r\n\r\n")),
            ErrorLine(HttpError::kTooManyConnectionOptions));
}

// ------------------------------------------------------------- limits

std::string RequestLineOfLength(size_t n) {
  const std::string prefix = "GET /";
  const std::string suffix = " HTTP/1.1";
  return prefix + std::string(n - prefix.size() - suffix.size(), 'a') + suffix;
}

TEST(RequestParserTest, DefaultRequestLineLimit) {
  const std::string ok = RequestLineOfLength(kDefaultMaxStartLine) + "\r\nHost: h\r\n\r\n";
  EXPECT_EQ(LastLine(ParseLarge(ok)), "COMPLETE");
  const std::string over = RequestLineOfLength(kDefaultMaxStartLine + 1) + "\r\nHost: h\r\n\r\n";
  EXPECT_EQ(LastLine(ParseLarge(over)), ErrorLine(HttpError::kStartLineTooLong));
  EXPECT_EQ(RequestErrorStatus(HttpError::kStartLineTooLong), 414);
}

TEST(RequestParserTest, RequestLineLimitEveryShortSplit) {
  DriveOptions o;
  o.limits.max_start_line = 40;
  EXPECT_EQ(LastLine(Parse(RequestLineOfLength(40) + "\r\nHost: h\r\n\r\n", o)), "COMPLETE");
  EXPECT_EQ(LastLine(Parse(RequestLineOfLength(41) + "\r\nHost: h\r\n\r\n", o)),
            ErrorLine(HttpError::kStartLineTooLong));
  // Detected before the line ends: the peer need not send the CRLF.
  RequestParser p(o.limits);
  EXPECT_EQ(p.Parse(RequestLineOfLength(41)).event, Event::kNeedMore);
  EXPECT_EQ(p.Parse(RequestLineOfLength(41) + "x").event, Event::kError);
  EXPECT_EQ(p.error(), HttpError::kStartLineTooLong);
}

// A request whose header section (field lines + final CRLF) is `n` bytes.
std::string RequestWithHeaderSection(size_t n) {
  std::string fields = "Host: h\r\n";
  const std::string end = "\r\n";
  const std::string prefix = "X-Pad: ";
  const size_t pad = n - fields.size() - end.size() - prefix.size() - 2;
  fields += prefix + std::string(pad, 'p') + "\r\n";
  return "GET / HTTP/1.1\r\n" + fields + end;
}

TEST(RequestParserTest, DefaultHeaderSectionLimit) {
  EXPECT_EQ(LastLine(ParseLarge(RequestWithHeaderSection(kDefaultMaxHeaderSection))), "COMPLETE");
  EXPECT_EQ(LastLine(ParseLarge(RequestWithHeaderSection(kDefaultMaxHeaderSection + 1))),
            ErrorLine(HttpError::kHeaderSectionTooLarge));
  EXPECT_EQ(RequestErrorStatus(HttpError::kHeaderSectionTooLarge), 431);
}

TEST(RequestParserTest, HeaderSectionLimitEveryShortSplit) {
  DriveOptions o;
  o.limits.max_header_section = 40;
  EXPECT_EQ(LastLine(Parse(RequestWithHeaderSection(40), o)), "COMPLETE");
  EXPECT_EQ(LastLine(Parse(RequestWithHeaderSection(41), o)),
            ErrorLine(HttpError::kHeaderSectionTooLarge));
}

std::string RequestWithFields(size_t n) {
  std::string r = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (size_t i = 1; i < n; ++i) r += "X-" + std::to_string(i) + ": v\r\n";
  return r + "\r\n";
}

TEST(RequestParserTest, DefaultHeaderCountLimit) {
  EXPECT_EQ(LastLine(ParseLarge(RequestWithFields(kDefaultMaxHeaderCount))), "COMPLETE");
  EXPECT_EQ(LastLine(ParseLarge(RequestWithFields(kDefaultMaxHeaderCount + 1))),
            ErrorLine(HttpError::kTooManyFields));
  EXPECT_EQ(RequestErrorStatus(HttpError::kTooManyFields), 431);
}

TEST(RequestParserTest, HeaderCountCapacity) {
  DriveOptions o;
  o.limits.max_header_count = kHeaderCountCapacity;
  ASSERT_TRUE(o.limits.Validate().ok());
  EXPECT_EQ(LastLine(ParseLarge(RequestWithFields(kHeaderCountCapacity), o)), "COMPLETE");
  EXPECT_EQ(LastLine(ParseLarge(RequestWithFields(kHeaderCountCapacity + 1), o)),
            ErrorLine(HttpError::kTooManyFields));
}

TEST(RequestParserTest, InvalidLimitsAreClampedNotTrusted) {
  DriveOptions o;
  o.limits.max_header_count = 100000;  // fails Validate(); the table holds 128
  ASSERT_FALSE(o.limits.Validate().ok());
  EXPECT_EQ(LastLine(ParseLarge(RequestWithFields(kHeaderCountCapacity), o)), "COMPLETE");
  EXPECT_EQ(LastLine(ParseLarge(RequestWithFields(kHeaderCountCapacity + 1), o)),
            ErrorLine(HttpError::kTooManyFields));
}

TEST(RequestParserTest, HeaderCountLimitEveryShortSplit) {
  DriveOptions o;
  o.limits.max_header_count = 3;
  EXPECT_EQ(LastLine(Parse(RequestWithFields(3), o)), "COMPLETE");
  EXPECT_EQ(LastLine(Parse(RequestWithFields(4), o)), ErrorLine(HttpError::kTooManyFields));
}

TEST(RequestParserTest, TrailerLimits) {
  DriveOptions o;
  o.limits.max_header_count = 2;
  o.limits.max_header_section = 40;
  EXPECT_EQ(LastLine(Parse(Chunked("0\r\nA: 1\r\nB: 2\r\n\r\n"), o)), "COMPLETE");
  EXPECT_EQ(LastLine(Parse(Chunked("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), o)),
            ErrorLine(HttpError::kTooManyFields));
  // 40 bytes of trailer section, then 41.
  const std::string t40 = "A: " + std::string(33, 'x') + "\r\n\r\n";
  ASSERT_EQ(t40.size(), 40u);
  EXPECT_EQ(LastLine(Parse(Chunked("0\r\n" + t40), o)), "COMPLETE");
  const std::string t41 = "A: " + std::string(34, 'x') + "\r\n\r\n";
  EXPECT_EQ(LastLine(Parse(Chunked("0\r\n" + t41), o)),
            ErrorLine(HttpError::kHeaderSectionTooLarge));
}

TEST(RequestParserTest, DefaultBodyLimitWithContentLength) {
  RequestParser at;
  ASSERT_EQ(at.Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: " +
                     std::to_string(kDefaultMaxRequestBody) + "\r\n\r\n")
                .event,
            Event::kHead);
  EXPECT_EQ(at.head().content_length(), kDefaultMaxRequestBody);
  EXPECT_REJECTED("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: " +
                      std::to_string(kDefaultMaxRequestBody + 1) + "\r\n\r\n",
                  HttpError::kBodyTooLarge, 413);
}

TEST(RequestParserTest, BodyLimitWithChunks) {
  DriveOptions o;
  o.limits.max_request_body = 10;
  EXPECT_EQ(Parse(Chunked("4\r\nabcd\r\n6\r\nefghij\r\n0\r\n\r\n"), o),
            "REQ POST / 1.1 host=h chunked ka=1\nF Host: h\nF Transfer-Encoding: chunked\n"
            "BODY abcdefghij\nCOMPLETE\n");
  // The eleventh byte is refused at its chunk's size line, before any of it.
  EXPECT_EQ(Parse(Chunked("4\r\nabcd\r\n7\r\nefghijk\r\n0\r\n\r\n"), o),
            "REQ POST / 1.1 host=h chunked ka=1\nF Host: h\nF Transfer-Encoding: chunked\n"
            "BODY abcd\n" + ErrorLine(HttpError::kBodyTooLarge) + "\n");
  EXPECT_EQ(LastLine(Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789", o)),
            "COMPLETE");
  EXPECT_EQ(LastLine(Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", o)),
            ErrorLine(HttpError::kBodyTooLarge));
}

TEST(RequestParserTest, DefaultChunkLineLimit) {
  // A chunk line of exactly max_chunk_line bytes (size + extensions).
  const std::string ext_ok = "1;e=" + std::string(kDefaultMaxChunkLine - 4, 'x');
  ASSERT_EQ(ext_ok.size(), kDefaultMaxChunkLine);
  EXPECT_EQ(LastLine(ParseLarge(Chunked(ext_ok + "\r\nx\r\n0\r\n\r\n"))), "COMPLETE");
  EXPECT_EQ(LastLine(ParseLarge(Chunked(ext_ok + "x\r\nx\r\n0\r\n\r\n"))),
            ErrorLine(HttpError::kChunkLineTooLong));
}

// Chunk lines "1;e=xx..." whose bytes past the 16th of each line add up to
// `excess`, each followed by one data byte.
std::string ChunksWithExcess(uint64_t excess) {
  std::string body;
  while (excess > 0) {
    const uint64_t take = std::min<uint64_t>(excess, kDefaultMaxChunkLine - kChunkLineFreeBytes);
    body += "1;e=" + std::string(kChunkLineFreeBytes + take - 4, 'x') + "\r\nd\r\n";
    excess -= take;
  }
  return body + "0\r\n\r\n";
}

TEST(RequestParserTest, ChunkExtensionBudgetPerMessage) {
  EXPECT_EQ(LastLine(ParseLarge(Chunked(ChunksWithExcess(kMaxChunkLineExcess)))), "COMPLETE");
  EXPECT_EQ(LastLine(ParseLarge(Chunked(ChunksWithExcess(kMaxChunkLineExcess + 1)))),
            ErrorLine(HttpError::kTooMuchChunkExtension));
  // Lines of up to 16 bytes cost nothing, and the budget is per message.
  EXPECT_EQ(LastLine(Parse(Chunked("0000000000000001\r\nx\r\n0;abcdefghijklmn\r\n\r\n"))),
            "COMPLETE");
  const std::string one = Chunked(ChunksWithExcess(kMaxChunkLineExcess));
  EXPECT_EQ(LastLine(ParseLarge(one + one)), "COMPLETE");
}

TEST(RequestParserTest, ChunkLineLimitEveryShortSplit) {
  DriveOptions o;
  o.limits.max_chunk_line = 8;
  EXPECT_EQ(LastLine(Parse(Chunked("1;abcdef\r\nx\r\n0\r\n\r\n"), o)), "COMPLETE");
  EXPECT_EQ(LastLine(Parse(Chunked("1;abcdefg\r\nx\r\n0\r\n\r\n"), o)),
            ErrorLine(HttpError::kChunkLineTooLong));
}

// ---------------------------------------------------- end of stream, API

TEST(RequestParserTest, FinishBetweenMessagesIsClean) {
  DriveOptions o;
  o.finish = true;
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n", o),
            "REQ GET / 1.1 host=h none ka=1\nF Host: h\nCOMPLETE\nDONE\n");
  EXPECT_EQ(DriveRequest("", {}, o), "DONE\n");
}

TEST(RequestParserTest, FinishInsideAMessageIsTruncated) {
  DriveOptions o;
  o.finish = true;
  for (const char* in : {"G", "GET / HTTP/1.1\r\nHost: h\r\n",
                         "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab",
                         "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
                         "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"}) {
    EXPECT_EQ(LastLine(Parse(in, o)), ErrorLine(HttpError::kTruncated)) << in;
  }
}

TEST(RequestParserTest, FewerBytesThanPendingIsAnInvalidCall) {
  RequestParser p;
  EXPECT_EQ(p.Parse("GET / HT").event, Event::kNeedMore);
  EXPECT_EQ(p.pending(), 8u);
  EXPECT_EQ(p.Parse("GET").event, Event::kError);
  EXPECT_EQ(p.error(), HttpError::kInvalidCall);
}

TEST(RequestParserTest, ErrorIsSticky) {
  RequestParser p;
  EXPECT_EQ(p.Parse("GET / HTTP/1.1\n").event, Event::kError);
  EXPECT_EQ(p.Parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n").event, Event::kError);
  EXPECT_EQ(p.error(), HttpError::kBareLf);
  EXPECT_EQ(p.error_status(), 400);
  p.Reset();
  EXPECT_EQ(p.Parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n").event, Event::kHead);
}

TEST(RequestParserTest, HeadViewsPointIntoTheCallersBuffer) {
  const std::string req = "GET /x HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n";
  RequestParser p;
  const Step s = p.Parse(req);
  ASSERT_EQ(s.event, Event::kHead);
  EXPECT_EQ(s.consumed, req.size());
  EXPECT_EQ(p.head().target().data(), req.data() + 4);
  EXPECT_EQ(p.head().fields().value(1).data(), req.data() + req.find("1\r\n\r\n"));
  // Moving the bytes and rebasing keeps the views right.
  const std::string moved = req;
  p.RebaseHead(moved.data());
  EXPECT_EQ(p.head().target().data(), moved.data() + 4);
  EXPECT_EQ(p.head().fields().Get("x-a"), "1");
  EXPECT_EQ(p.head().fields().Count("HOST"), 1u);
  EXPECT_EQ(p.head().fields().Find(HeaderId::kHost), 0u);
  EXPECT_EQ(p.head().fields().Find("absent"), FieldBlock::npos);
}

TEST(RequestParserTest, HeadStaysReadableUntilTheNextMessageStarts) {
  const std::string two =
      "POST /first HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx"
      "GET /second HTTP/1.1\r\nHost: h\r\n\r\n";
  RequestParser p;
  std::string_view in = two;
  Step s = p.Parse(in);
  ASSERT_EQ(s.event, Event::kHead);
  in.remove_prefix(s.consumed);
  s = p.Parse(in);
  ASSERT_EQ(s.event, Event::kBody);
  in.remove_prefix(s.consumed);
  s = p.Parse(in);
  ASSERT_EQ(s.event, Event::kMessageComplete);
  // The caller still holds the bytes, so the first head is intact.
  EXPECT_EQ(p.head().target(), "/first");
  EXPECT_EQ(p.head().content_length(), 1u);
  in.remove_prefix(s.consumed);
  s = p.Parse(in);
  ASSERT_EQ(s.event, Event::kHead);
  EXPECT_EQ(p.head().target(), "/second");
  EXPECT_FALSE(p.head().has_content_length());
}

TEST(RequestParserTest, BodyDataIsNotCopied) {
  const std::string req = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
  RequestParser p;
  const Step head = p.Parse(req);
  ASSERT_EQ(head.event, Event::kHead);
  const Step body = p.Parse(std::string_view(req).substr(head.consumed));
  ASSERT_EQ(body.event, Event::kBody);
  EXPECT_EQ(reinterpret_cast<const char*>(body.data.data()), req.data() + head.consumed);
  EXPECT_EQ(body.data.size(), 3u);
}

TEST(RequestParserTest, ParserStateIsFixedAndSmall) {
  // Two field tables (head, trailers) of kHeaderCountCapacity entries and a
  // few scalars: nothing grows per request.
  EXPECT_LT(sizeof(RequestParser), 4400u);
  EXPECT_LT(sizeof(ResponseParser), 4400u);
}

TEST(RequestParserTest, HeaderIdsAreRecognised) {
  RequestParser p;
  ASSERT_EQ(p.Parse("GET / HTTP/1.1\r\nhOsT: h\r\nTE: trailers\r\nVIA: 1.1 a\r\n"
                    "x-forwarded-for: 1.2.3.4\r\nX-Forwarded-Proto: https\r\n"
                    "Proxy-Connection: close\r\nTrailer: X\r\nKeep-Alive: 1\r\n\r\n")
                .event,
            Event::kHead);
  const FieldBlock& f = p.head().fields();
  EXPECT_EQ(f.id(0), HeaderId::kHost);
  EXPECT_EQ(f.id(1), HeaderId::kTe);
  EXPECT_EQ(f.id(2), HeaderId::kVia);
  EXPECT_EQ(f.id(3), HeaderId::kXForwardedFor);
  EXPECT_EQ(f.id(4), HeaderId::kXForwardedProto);
  EXPECT_EQ(f.id(5), HeaderId::kProxyConnection);
  EXPECT_EQ(f.id(6), HeaderId::kTrailer);
  EXPECT_EQ(f.id(7), HeaderId::kKeepAlive);
}

}  // namespace
}  // namespace locus::proxy::http
