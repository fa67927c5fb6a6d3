#include "proxy/http/forward.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/http/http_parser.h"

namespace locus::proxy::http {
namespace {

// Parses a whole request head (the bytes must outlive the returned parser's
// head, so the test keeps them).
struct ParsedRequest {
  explicit ParsedRequest(std::string bytes) : text(std::move(bytes)) {
    step = parser.Parse(text);
  }
  std::string text;
  RequestParser parser;
  Step step;
};

struct ParsedResponse {
  ParsedResponse(std::string bytes, ResponseExpectation e) : text(std::move(bytes)) {
    parser.ExpectResponse(e);
    step = parser.Parse(text);
  }
  std::string text;
  ResponseParser parser;
  Step step;
};

std::string Request(const RequestHead& h, const RequestForwarding& f) {
  const OutboundFraming framing = ChooseRequestFraming(h);
  std::string out(WriteRequestHead(h, f, framing, {}), '\0');
  EXPECT_EQ(WriteRequestHead(h, f, framing, out), out.size());
  return out;
}

std::string Response(const ResponseHead& h, const ResponseForwarding& f, uint8_t client_minor) {
  const OutboundFraming framing = ChooseResponseFraming(h, client_minor);
  std::string out(WriteResponseHead(h, f, framing, {}), '\0');
  EXPECT_EQ(WriteResponseHead(h, f, framing, out), out.size());
  return out;
}

TEST(ForwardTest, RequestDropsHopByHopAndAddsForwardingFields) {
  ParsedRequest r(
      "GET /p?q HTTP/1.1\r\n"
      "User-Agent: ua\r\n"
      "Host: example.com\r\n"
      "Connection: keep-alive, X-Secret\r\n"
      "Keep-Alive: timeout=5\r\n"
      "X-Secret: s\r\n"
      "Proxy-Connection: keep-alive\r\n"
      "TE: trailers\r\n"
      "Trailer: Checksum\r\n"
      "Upgrade: websocket\r\n"
      "Via: 1.0 fred\r\n"
      "X-Forwarded-For: 192.0.2.1\r\n"
      "X-Forwarded-Proto: https\r\n"
      "Accept: */*\r\n"
      "x-forwarded-for: 198.51.100.7\r\n"
      "\r\n");
  ASSERT_EQ(r.step.event, Event::kHead);
  RequestForwarding f;
  f.client_address = "203.0.113.9";
  EXPECT_EQ(Request(r.parser.head(), f),
            "GET /p?q HTTP/1.1\r\n"
            "Host: example.com\r\n"
            "User-Agent: ua\r\n"
            "Accept: */*\r\n"
            "Via: 1.0 fred, 1.1 locus\r\n"
            "X-Forwarded-For: 192.0.2.1, 198.51.100.7, 203.0.113.9\r\n"
            "X-Forwarded-Proto: http\r\n"
            "\r\n");
}

TEST(ForwardTest, RequestWithoutForwardingHistory) {
  ParsedRequest r("POST /x HTTP/1.0\r\nContent-Length: 3\r\n\r\n");
  ASSERT_EQ(r.step.event, Event::kHead);
  RequestForwarding f;
  f.client_address = "10.1.2.3";
  f.client_tls = true;
  f.via_pseudonym = "edge-1";
  EXPECT_EQ(Request(r.parser.head(), f),
            "POST /x HTTP/1.1\r\n"
            "Host: \r\n"
            "Via: 1.0 edge-1\r\n"
            "X-Forwarded-For: 10.1.2.3\r\n"
            "X-Forwarded-Proto: https\r\n"
            "Content-Length: 3\r\n"
            "\r\n");
}

TEST(ForwardTest, ExistingForwardedForPassesWithoutClientAddress) {
  ParsedRequest r("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 192.0.2.1\r\n\r\n");
  ASSERT_EQ(r.step.event, Event::kHead);
  EXPECT_EQ(Request(r.parser.head(), {}),
            "GET / HTTP/1.1\r\nHost: h\r\nVia: 1.1 locus\r\nX-Forwarded-For: 192.0.2.1\r\n"
            "X-Forwarded-Proto: http\r\n\r\n");
  // Listed in Connection by the client: hop-by-hop, so dropped.
  ParsedRequest hop(
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: x-forwarded-for\r\nX-Forwarded-For: 1.1.1.1\r\n\r\n");
  ASSERT_EQ(hop.step.event, Event::kHead);
  EXPECT_EQ(Request(hop.parser.head(), {}),
            "GET / HTTP/1.1\r\nHost: h\r\nVia: 1.1 locus\r\nX-Forwarded-Proto: http\r\n\r\n");
}

TEST(ForwardTest, AbsoluteFormBecomesOriginForm) {
  ParsedRequest r("GET http://backend.example:8080/a/b?c=d HTTP/1.1\r\nHost: wrong\r\n\r\n");
  ASSERT_EQ(r.step.event, Event::kHead);
  EXPECT_EQ(Request(r.parser.head(), {}),
            "GET /a/b?c=d HTTP/1.1\r\nHost: backend.example:8080\r\nVia: 1.1 locus\r\n"
            "X-Forwarded-Proto: http\r\n\r\n");
  ParsedRequest empty("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(empty.step.event, Event::kHead);
  EXPECT_EQ(Request(empty.parser.head(), {}).substr(0, 16), "GET / HTTP/1.1\r\n");
  ParsedRequest query("GET http://h?x HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(query.step.event, Event::kHead);
  EXPECT_EQ(Request(query.parser.head(), {}).substr(0, 18), "GET /?x HTTP/1.1\r\n");
}

TEST(ForwardTest, HostOverride) {
  ParsedRequest r("GET / HTTP/1.1\r\nHost: public.example\r\n\r\n");
  ASSERT_EQ(r.step.event, Event::kHead);
  RequestForwarding f;
  f.host_override = "internal:8080";
  EXPECT_EQ(Request(r.parser.head(), f).substr(0, 37),
            "GET / HTTP/1.1\r\nHost: internal:8080\r\n");
}

TEST(ForwardTest, ChunkedRequestStaysChunked) {
  ParsedRequest r("PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_EQ(r.step.event, Event::kHead);
  EXPECT_EQ(ChooseRequestFraming(r.parser.head()), (OutboundFraming{BodyFraming::kChunked, 0}));
  EXPECT_EQ(Request(r.parser.head(), {}),
            "PUT / HTTP/1.1\r\nHost: h\r\nVia: 1.1 locus\r\nX-Forwarded-Proto: http\r\n"
            "Transfer-Encoding: chunked\r\n\r\n");
}

TEST(ForwardTest, UpgradeKeptOnlyWhenAllowed) {
  ParsedRequest r(
      "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Key: k\r\n\r\n");
  ASSERT_EQ(r.step.event, Event::kHead);
  ASSERT_TRUE(r.parser.head().upgrade());
  EXPECT_EQ(Request(r.parser.head(), {}),
            "GET /ws HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: k\r\nVia: 1.1 locus\r\n"
            "X-Forwarded-Proto: http\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
  RequestForwarding no;
  no.allow_upgrade = false;
  EXPECT_EQ(Request(r.parser.head(), no),
            "GET /ws HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: k\r\nVia: 1.1 locus\r\n"
            "X-Forwarded-Proto: http\r\n\r\n");
}

TEST(ForwardTest, ForwardedRequestParsesBack) {
  ParsedRequest r(
      "POST http://h:1/x HTTP/1.1\r\nHost: h:1\r\nContent-Length: 2\r\nConnection: close\r\n"
      "X-A: 1\r\n\r\n");
  ASSERT_EQ(r.step.event, Event::kHead);
  RequestForwarding f;
  f.client_address = "192.0.2.44";
  const std::string out = Request(r.parser.head(), f);
  RequestParser back;
  ASSERT_EQ(back.Parse(out).event, Event::kHead) << HttpErrorName(back.error());
  EXPECT_EQ(back.head().target(), "/x");
  EXPECT_EQ(back.head().host(), "h:1");
  EXPECT_EQ(back.head().content_length(), 2u);
  EXPECT_TRUE(back.head().keep_alive());
  EXPECT_EQ(back.head().fields().Get("x-a"), "1");
  EXPECT_EQ(back.head().fields().Get("X-Forwarded-For"), "192.0.2.44");
}

TEST(ForwardTest, OutputTooSmallReportsTheSizeAndStaysInBounds) {
  ParsedRequest r("GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + std::string(100, 'v') + "\r\n\r\n");
  ASSERT_EQ(r.step.event, Event::kHead);
  const OutboundFraming framing = ChooseRequestFraming(r.parser.head());
  const size_t need = WriteRequestHead(r.parser.head(), {}, framing, {});
  for (size_t room : {size_t{0}, size_t{1}, size_t{17}, need - 1}) {
    std::vector<char> buf(room + 8, '#');
    EXPECT_EQ(WriteRequestHead(r.parser.head(), {}, framing, std::span<char>(buf.data(), room)),
              need);
    for (size_t i = room; i < buf.size(); ++i) ASSERT_EQ(buf[i], '#') << room;
  }
}

TEST(ForwardTest, ResponseDropsHopByHopAndAddsVia) {
  ParsedResponse r(
      "HTTP/1.1 200 OK\r\nServer: s\r\nConnection: keep-alive, X-Internal\r\nX-Internal: 1\r\n"
      "Keep-Alive: timeout=3\r\nContent-Length: 5\r\nVia: 1.1 origin\r\n\r\n",
      {Method::kGet, false});
  ASSERT_EQ(r.step.event, Event::kHead);
  EXPECT_EQ(Response(r.parser.head(), {}, 1),
            "HTTP/1.1 200 OK\r\nServer: s\r\nVia: 1.1 origin, 1.1 locus\r\nContent-Length: 5\r\n\r\n");
  ResponseForwarding close;
  close.close = true;
  EXPECT_EQ(Response(r.parser.head(), close, 1),
            "HTTP/1.1 200 OK\r\nServer: s\r\nVia: 1.1 origin, 1.1 locus\r\nContent-Length: 5\r\n"
            "Connection: close\r\n\r\n");
  ResponseForwarding ka;
  ka.http10_keep_alive = true;
  EXPECT_EQ(Response(r.parser.head(), ka, 0),
            "HTTP/1.1 200 OK\r\nServer: s\r\nVia: 1.1 origin, 1.1 locus\r\nContent-Length: 5\r\n"
            "Connection: keep-alive\r\n\r\n");
}

TEST(ForwardTest, CloseDelimitedResponseIsChunkedFor11AndClosedFor10) {
  ParsedResponse r("HTTP/1.0 200 OK\r\nServer: s\r\n\r\n", {Method::kGet, false});
  ASSERT_EQ(r.step.event, Event::kHead);
  EXPECT_EQ(Response(r.parser.head(), {}, 1),
            "HTTP/1.1 200 OK\r\nServer: s\r\nVia: 1.0 locus\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(Response(r.parser.head(), {}, 0),
            "HTTP/1.1 200 OK\r\nServer: s\r\nVia: 1.0 locus\r\nConnection: close\r\n\r\n");
}

TEST(ForwardTest, ChunkedResponseToHttp10ClientIsCloseDelimited) {
  ParsedResponse r("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", {Method::kGet, false});
  ASSERT_EQ(r.step.event, Event::kHead);
  EXPECT_EQ(ChooseResponseFraming(r.parser.head(), 0),
            (OutboundFraming{BodyFraming::kCloseDelimited, 0}));
  EXPECT_EQ(ChooseResponseFraming(r.parser.head(), 1),
            (OutboundFraming{BodyFraming::kChunked, 0}));
}

TEST(ForwardTest, BodylessResponsesKeepOrDropContentLength) {
  ParsedResponse head("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", {Method::kHead, false});
  ASSERT_EQ(head.step.event, Event::kHead);
  EXPECT_EQ(Response(head.parser.head(), {}, 1),
            "HTTP/1.1 200 OK\r\nVia: 1.1 locus\r\nContent-Length: 42\r\n\r\n");
  ParsedResponse nm("HTTP/1.1 304 Not Modified\r\nContent-Length: 42\r\n\r\n", {Method::kGet, false});
  ASSERT_EQ(nm.step.event, Event::kHead);
  EXPECT_EQ(Response(nm.parser.head(), {}, 1),
            "HTTP/1.1 304 Not Modified\r\nVia: 1.1 locus\r\nContent-Length: 42\r\n\r\n");
  ParsedResponse nc("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nTransfer-Encoding: x\r\n\r\n",
                    {Method::kGet, false});
  ASSERT_EQ(nc.step.event, Event::kError);  // CL with TE is refused even here
  ParsedResponse nc2("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", {Method::kGet, false});
  ASSERT_EQ(nc2.step.event, Event::kHead);
  EXPECT_EQ(Response(nc2.parser.head(), {}, 1), "HTTP/1.1 204 No Content\r\nVia: 1.1 locus\r\n\r\n");
}

TEST(ForwardTest, InterimAndSwitchingResponses) {
  ParsedResponse cont("HTTP/1.1 100 Continue\r\n\r\n", {Method::kPut, false});
  ASSERT_EQ(cont.step.event, Event::kHead);
  ResponseForwarding close;
  close.close = true;
  EXPECT_EQ(Response(cont.parser.head(), close, 1),
            "HTTP/1.1 100 Continue\r\nVia: 1.1 locus\r\n\r\n");
  ParsedResponse sw("HTTP/1.1 101 \r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
                    "Sec-WebSocket-Accept: a\r\n\r\n",
                    {Method::kGet, true});
  ASSERT_EQ(sw.step.event, Event::kHead);
  EXPECT_EQ(Response(sw.parser.head(), {}, 1),
            "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: a\r\nVia: 1.1 locus\r\n"
            "Upgrade: websocket\r\nConnection: upgrade\r\n\r\n");
}

TEST(ForwardTest, ResponseWhitespaceBeforeColonIsRemoved) {
  ParsedResponse r("HTTP/1.1 200 OK\r\nX-A  : b\r\nContent-Length: 0\r\n\r\n", {Method::kGet, false});
  ASSERT_EQ(r.step.event, Event::kHead);
  EXPECT_EQ(Response(r.parser.head(), {}, 1),
            "HTTP/1.1 200 OK\r\nX-A: b\r\nVia: 1.1 locus\r\nContent-Length: 0\r\n\r\n");
}

TEST(ForwardTest, ChunkHeaders) {
  char buf[kMaxChunkHeaderLength];
  EXPECT_EQ(std::string_view(buf, WriteChunkHeader(1, buf)), "1\r\n");
  EXPECT_EQ(std::string_view(buf, WriteChunkHeader(255, buf)), "ff\r\n");
  EXPECT_EQ(std::string_view(buf, WriteChunkHeader(4096, buf)), "1000\r\n");
  EXPECT_EQ(std::string_view(buf, WriteChunkHeader(~uint64_t{0}, buf)), "ffffffffffffffff\r\n");
}

TEST(ForwardTest, LastChunkForwardsOnlyPlainTrailers) {
  EXPECT_EQ(WriteLastChunk(nullptr, {}), 5u);
  const std::string req =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
      "Checksum: c1\r\nContent-Length: 5\r\nHost: evil\r\nX-T: 2\r\n\r\n";
  RequestParser p;
  std::string_view in = req;
  Step s;
  while ((s = p.Parse(in)).event != Event::kTrailers) {
    ASSERT_NE(s.event, Event::kError);
    ASSERT_NE(s.event, Event::kNeedMore);
    in.remove_prefix(s.consumed);
  }
  std::string out(WriteLastChunk(&p.trailers(), {}), '\0');
  WriteLastChunk(&p.trailers(), out);
  EXPECT_EQ(out, "0\r\nChecksum: c1\r\nX-T: 2\r\n\r\n");
}

// Parse a chunked request, re-encode its body with the chunk writers, and
// parse the result: same body and trailers.
TEST(ForwardTest, ChunkedReEncodingRoundTrips) {
  const std::string original =
      "POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3;ext=1\r\nabc\r\n000010\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n";
  RequestParser in;
  std::string_view rest = original;
  std::string forwarded;
  std::string body;
  for (;;) {
    const Step s = in.Parse(rest);
    if (s.event == Event::kHead) {
      std::string head(WriteRequestHead(in.head(), {}, ChooseRequestFraming(in.head()), {}), '\0');
      WriteRequestHead(in.head(), {}, ChooseRequestFraming(in.head()), head);
      forwarded += head;
    } else if (s.event == Event::kBody) {
      char prefix[kMaxChunkHeaderLength];
      forwarded.append(prefix, WriteChunkHeader(s.data.size(), prefix));
      forwarded.append(reinterpret_cast<const char*>(s.data.data()), s.data.size());
      forwarded += kChunkEnd;
      body.append(reinterpret_cast<const char*>(s.data.data()), s.data.size());
    } else if (s.event == Event::kTrailers) {
      std::string last(WriteLastChunk(&in.trailers(), {}), '\0');
      WriteLastChunk(&in.trailers(), last);
      forwarded += last;
    } else if (s.event == Event::kMessageComplete) {
      break;
    } else {
      FAIL() << EventName(s.event);
    }
    rest.remove_prefix(s.consumed);
  }
  EXPECT_EQ(body, "abc0123456789abcdef");
  RequestParser out;
  std::string_view again = forwarded;
  std::string body2, trailers;
  for (;;) {
    const Step s = out.Parse(again);
    ASSERT_NE(s.event, Event::kError) << HttpErrorName(out.error());
    ASSERT_NE(s.event, Event::kNeedMore);
    if (s.event == Event::kBody) body2.append(reinterpret_cast<const char*>(s.data.data()), s.data.size());
    if (s.event == Event::kTrailers) trailers = std::string(out.trailers().name(0)) + "=" + std::string(out.trailers().value(0));
    if (s.event == Event::kMessageComplete) break;
    again.remove_prefix(s.consumed);
  }
  EXPECT_EQ(body2, body);
  EXPECT_EQ(trailers, "T=v");
}

}  // namespace
}  // namespace locus::proxy::http
