#include "proxy/http/canned.h"

#include <string>

#include "gtest/gtest.h"
#include "proxy/http/http_error.h"
#include "proxy/http/http_parser.h"

namespace locus::proxy::http {
namespace {

// Parses `bytes` as a response to GET: the head, then the whole body.
struct Parsed {
  uint16_t status = 0;
  std::string reason;
  std::string body;
  bool keep_alive = true;
  std::string content_type;
  bool complete = false;
};

Parsed ParseResponse(std::string_view bytes) {
  Parsed r;
  ResponseParser p;
  p.ExpectResponse({Method::kGet, false});
  for (;;) {
    const Step s = p.Parse(bytes);
    if (s.event == Event::kHead) {
      r.status = p.head().status();
      r.reason = std::string(p.head().reason());
      r.keep_alive = p.head().keep_alive();
      r.content_type = std::string(p.head().fields().Get("content-type").value_or(""));
    } else if (s.event == Event::kBody) {
      r.body.append(reinterpret_cast<const char*>(s.data.data()), s.data.size());
    } else if (s.event == Event::kMessageComplete) {
      r.complete = true;
      bytes.remove_prefix(s.consumed);
      EXPECT_TRUE(bytes.empty()) << "bytes after the message";
      return r;
    } else {
      ADD_FAILURE() << EventName(s.event) << " " << HttpErrorName(p.error());
      return r;
    }
    bytes.remove_prefix(s.consumed);
  }
}

TEST(CannedTest, GoldenBadRequest) {
  EXPECT_EQ(CannedResponse(400),
            "HTTP/1.1 400 Bad Request\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 16\r\n"
            "Connection: close\r\n"
            "\r\n"
            "400 Bad Request\n");
}

TEST(CannedTest, EveryStatusTheParserProducesParsesBack) {
  for (uint16_t status : {400, 408, 413, 414, 417, 431, 500, 501, 502, 503, 504, 505}) {
    const Parsed r = ParseResponse(CannedResponse(status));
    ASSERT_TRUE(r.complete) << status;
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.reason, ReasonPhrase(status));
    EXPECT_EQ(r.body, std::to_string(status) + " " + std::string(ReasonPhrase(status)) + "\n");
    EXPECT_FALSE(r.keep_alive);
    EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  }
  // Every request error maps to a canned status.
  for (int e = 0; e < static_cast<int>(HttpError::kCount); ++e) {
    const uint16_t status = RequestErrorStatus(static_cast<HttpError>(e));
    if (status == 200) continue;
    EXPECT_FALSE(ReasonPhrase(status).empty()) << status;
  }
}

TEST(CannedTest, UnknownStatusFallsBackTo500) {
  EXPECT_EQ(CannedResponse(299), CannedResponse(500));
  EXPECT_EQ(ReasonPhrase(299), "");
}

TEST(CannedTest, ErrorResponseWithDetail) {
  const std::string detail(HttpErrorName(HttpError::kObsFold));
  std::string out(WriteErrorResponse(400, detail, {}), '\0');
  ASSERT_EQ(WriteErrorResponse(400, detail, out), out.size());
  const Parsed r = ParseResponse(out);
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "400 Bad Request\nobsolete line folding\n");
  // Without detail it is the canned response.
  std::string plain(WriteErrorResponse(431, "", {}), '\0');
  WriteErrorResponse(431, "", plain);
  EXPECT_EQ(plain, CannedResponse(431));
}

TEST(CannedTest, ErrorResponseStaysInBounds) {
  const size_t need = WriteErrorResponse(502, "upstream reset", {});
  std::string buf(need + 4, '#');
  EXPECT_EQ(WriteErrorResponse(502, "upstream reset", std::span<char>(buf.data(), need - 1)), need);
  EXPECT_EQ(buf.substr(need - 1), "#####");
}

}  // namespace
}  // namespace locus::proxy::http
