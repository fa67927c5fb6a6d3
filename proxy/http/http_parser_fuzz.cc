// libFuzzer target for the HTTP/1.1 parser.
//
// Input: byte 0 chooses the mode (bit 0: response parser; bit 1: accept
// upgrades, else reject; bit 2: the peer closes at the end; bit 3: small
// limits; bits 4-5: what request the response answers), byte 1 seeds the
// split points, the rest is the stream.
//
// The stream is parsed twice, fed at once and fed in fuzzer-chosen pieces,
// the way the proxy feeds it (a buffer of unconsumed bytes). Checked:
//   * consumed <= bytes given; pending() == bytes kept after kNeedMore;
//   * body and tunnel data are the tail of the consumed bytes;
//   * every view of a head or trailer section lies in the consumed bytes,
//     field names are tokens, values carry no CR, LF or NUL and no outer
//     whitespace;
//   * a Content-Length body delivers exactly that many bytes; request bodies
//     never pass the limit; messages complete only after a head;
//   * errors are sticky, never kInvalidCall, and map to the documented
//     statuses;
//   * both feedings produce the same transcript.
// A violation prints what broke and aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "proxy/http/chars.h"
#include "proxy/http/http_parser.h"

namespace locus::proxy::http {
namespace {

[[noreturn]] void Violation(const char* what) {
  std::fprintf(stderr, "http_parser_fuzz: invariant violated: %s\n", what);
  std::abort();
}

#define FUZZ_CHECK(cond)                 \
  do {                                   \
    if (!(cond)) Violation(#cond);       \
  } while (0)

bool Within(std::string_view v, const char* lo, const char* hi) {
  return v.empty() || (v.data() >= lo && v.data() + v.size() <= hi);
}

void CheckFields(const FieldBlock& f, const char* lo, const char* hi) {
  for (size_t i = 0; i < f.size(); ++i) {
    const std::string_view name = f.name(i);
    const std::string_view value = f.value(i);
    FUZZ_CHECK(Within(name, lo, hi));
    FUZZ_CHECK(Within(value, lo, hi));
    FUZZ_CHECK(chars::IsToken(name));
    FUZZ_CHECK(value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos);
    FUZZ_CHECK(value.empty() || (!chars::IsOws(value.front()) && !chars::IsOws(value.back())));
  }
}

struct Options {
  bool response = false;
  bool accept_upgrade = false;
  bool finish = false;
  Limits limits;
  ResponseExpectation expectation;
};

uint64_t NextRandom(uint64_t* state) {
  *state ^= *state << 13;
  *state ^= *state >> 7;
  *state ^= *state << 17;
  return *state;
}

template <class Head>
class Run {
 public:
  explicit Run(const Options& o) : options_(o), parser_(o.limits) { Expect(); }

  // split_seed 0: all at once.
  std::string Go(std::string_view stream, uint64_t split_seed) {
    uint64_t state = split_seed | 1;
    size_t at = 0;
    while (at < stream.size() && !stopped_) {
      size_t n = stream.size() - at;
      if (split_seed != 0) {
        const uint64_t r = NextRandom(&state);
        // Mostly small pieces, sometimes single bytes, sometimes none.
        n = std::min<size_t>(n, (r & 3) == 0 ? 1 : (r >> 8) % 64);
      }
      buffer_.append(stream.substr(at, n));
      at += n;
      Pump();
    }
    if (!stopped_ && options_.finish) {
      Record(parser_.Finish(), {});
      if (!stopped_) Pump();
    }
    Flush();
    return transcript_;
  }

 private:
  void Expect() {
    if constexpr (!Head::kIsRequest) parser_.ExpectResponse(options_.expectation);
  }

  void Pump() {
    for (int guard = 0; !stopped_; ++guard) {
      FUZZ_CHECK(guard < 100000);
      const Step s = parser_.Parse(buffer_);
      FUZZ_CHECK(s.consumed <= buffer_.size());
      Record(s, buffer_);
      buffer_.erase(0, s.consumed);
      if (s.event == Event::kNeedMore) {
        FUZZ_CHECK(parser_.pending() == buffer_.size());
        return;
      }
    }
  }

  void Record(const Step& s, std::string_view in) {
    const char* lo = in.data();
    const char* hi = in.data() + s.consumed;
    if (s.event == Event::kBody || s.event == Event::kTunnel) {
      const char* d = reinterpret_cast<const char*>(s.data.data());
      FUZZ_CHECK(!s.data.empty());
      FUZZ_CHECK(d >= lo && d + s.data.size() == hi);
    } else {
      FUZZ_CHECK(s.data.empty());
    }
    if (s.event != Event::kNeedMore && s.event != Event::kBody && s.event != Event::kTunnel) {
      Flush();
    }
    switch (s.event) {
      case Event::kNeedMore:
        return;
      case Event::kHead: {
        const Head& h = parser_.head();
        CheckFields(h.fields(), lo, hi);
        if constexpr (Head::kIsRequest) {
          FUZZ_CHECK(Within(h.method_text(), lo, hi) && !h.method_text().empty());
          FUZZ_CHECK(Within(h.target(), lo, hi) && !h.target().empty());
          FUZZ_CHECK(Within(h.path(), lo, hi));
          FUZZ_CHECK(Within(h.host(), lo, hi));
          FUZZ_CHECK(Within(h.target_authority(), lo, hi));
          FUZZ_CHECK(h.framing() != BodyFraming::kCloseDelimited);
          if (h.framing() == BodyFraming::kContentLength) {
            FUZZ_CHECK(h.content_length() <= options_.limits.max_request_body);
          }
          transcript_ += "REQ " + std::string(h.method_text()) + " " + std::string(h.target()) +
                         " host=" + std::string(h.host());
        } else {
          FUZZ_CHECK(Within(h.reason(), lo, hi));
          FUZZ_CHECK(h.status() >= 100 && h.status() <= 599);
          transcript_ += "RESP " + std::to_string(h.status());
        }
        transcript_ += " f=" + std::to_string(static_cast<int>(h.framing())) +
                       " ka=" + std::to_string(h.keep_alive()) + "\n";
        for (size_t i = 0; i < h.fields().size(); ++i) {
          transcript_ += std::string(h.fields().name(i)) + ":" + std::string(h.fields().value(i)) +
                         "\n";
        }
        in_message_ = true;
        body_ = 0;
        content_length_ =
            h.framing() == BodyFraming::kContentLength ? h.content_length() : ~uint64_t{0};
        if constexpr (!Head::kIsRequest) {
          if (h.interim()) in_message_ = false;
        }
        return;
      }
      case Event::kBody:
        FUZZ_CHECK(in_message_);
        body_ += s.data.size();
        if (content_length_ != ~uint64_t{0}) FUZZ_CHECK(body_ <= content_length_);
        if constexpr (Head::kIsRequest) FUZZ_CHECK(body_ <= options_.limits.max_request_body);
        AppendData('B', s);
        return;
      case Event::kTunnel:
        AppendData('T', s);
        return;
      case Event::kTrailers:
        FUZZ_CHECK(in_message_);
        FUZZ_CHECK(!parser_.trailers().empty());
        CheckFields(parser_.trailers(), lo, hi);
        transcript_ += "TRAILERS " + std::to_string(parser_.trailers().size()) + "\n";
        return;
      case Event::kMessageComplete:
        FUZZ_CHECK(in_message_);
        if (content_length_ != ~uint64_t{0}) FUZZ_CHECK(body_ == content_length_);
        in_message_ = false;
        transcript_ += "COMPLETE\n";
        Expect();
        return;
      case Event::kPaused:
        if constexpr (Head::kIsRequest) {
          transcript_ += "PAUSED\n";
          if (options_.accept_upgrade) {
            parser_.AcceptUpgrade();
          } else {
            parser_.RejectUpgrade();
          }
          FUZZ_CHECK(parser_.error() == HttpError::kNone);
          return;
        }
        Violation("response parser paused");
      case Event::kDone:
        transcript_ += "DONE\n";
        stopped_ = true;
        return;
      case Event::kError: {
        const HttpError e = parser_.error();
        FUZZ_CHECK(e != HttpError::kNone && e != HttpError::kInvalidCall);
        FUZZ_CHECK(s.consumed == 0);
        const uint16_t status = parser_.error_status();
        if constexpr (Head::kIsRequest) {
          FUZZ_CHECK(status == 400 || status == 413 || status == 414 || status == 417 ||
                     status == 431 || status == 501 || status == 505);
        } else {
          FUZZ_CHECK(status == 502);
        }
        // Sticky.
        const Step again = parser_.Parse(in);
        FUZZ_CHECK(again.event == Event::kError && again.consumed == 0);
        transcript_ += "ERROR " + std::string(HttpErrorName(e)) + "\n";
        stopped_ = true;
        return;
      }
    }
  }

  // Adjacent body (or tunnel) pieces are one run, so that split and whole
  // feeding give the same text.
  void AppendData(char tag, const Step& step) {
    if (open_tag_ != tag) Flush();
    open_tag_ = tag;
    open_data_.append(reinterpret_cast<const char*>(step.data.data()), step.data.size());
  }
  void Flush() {
    if (open_tag_ == 0) return;
    transcript_ += open_tag_;
    transcript_ += open_data_;
    transcript_ += "\n";
    open_tag_ = 0;
    open_data_.clear();
  }

  const Options& options_;
  BasicParser<Head> parser_;
  std::string buffer_;
  std::string transcript_;
  char open_tag_ = 0;
  std::string open_data_;
  bool stopped_ = false;
  bool in_message_ = false;
  uint64_t body_ = 0;
  uint64_t content_length_ = 0;
};

template <class Head>
void Check(const Options& o, std::string_view stream, uint8_t split_seed) {
  const std::string whole = Run<Head>(o).Go(stream, 0);
  const std::string split =
      Run<Head>(o).Go(stream, 0x9e3779b97f4a7c15ull * (uint64_t{split_seed} + 1));
  if (whole != split) {
    std::fprintf(stderr, "whole:\n%s\nsplit:\n%s\n", whole.c_str(), split.c_str());
    Violation("split feeding changed the transcript");
  }
}

}  // namespace
}  // namespace locus::proxy::http

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace locus::proxy::http;
  if (size < 2) return 0;
  Options o;
  const uint8_t mode = data[0];
  o.response = (mode & 1) != 0;
  o.accept_upgrade = (mode & 2) != 0;
  o.finish = (mode & 4) != 0;
  if ((mode & 8) != 0) {
    o.limits.max_start_line = 64;
    o.limits.max_header_section = 128;
    o.limits.max_header_count = 4;
    o.limits.max_chunk_line = 16;
    o.limits.max_request_body = 64;
  }
  static constexpr ResponseExpectation kExpectations[] = {
      {Method::kGet, false}, {Method::kHead, false}, {Method::kConnect, false}, {Method::kGet, true}};
  o.expectation = kExpectations[(mode >> 4) & 3];
  const std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);
  if (o.response) {
    Check<ResponseHead>(o, stream, data[1]);
  } else {
    Check<RequestHead>(o, stream, data[1]);
  }
  return 0;
}
