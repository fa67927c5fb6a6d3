#include "proxy/http/parser_test_util.h"

#include <deque>

namespace locus::proxy::http::testing {
namespace {

std::string FramingText(const MessageHead& h) {
  switch (h.framing()) {
    case BodyFraming::kNone: return h.has_content_length() ? "none(cl=" + std::to_string(h.content_length()) + ")" : "none";
    case BodyFraming::kContentLength: return "cl=" + std::to_string(h.content_length());
    case BodyFraming::kChunked: return "chunked";
    case BodyFraming::kCloseDelimited: return "close-delimited";
  }
  return "?";
}

void AppendFields(const FieldBlock& f, std::string* out) {
  for (size_t i = 0; i < f.size(); ++i) {
    *out += "F ";
    *out += f.name(i);
    *out += ": ";
    *out += f.value(i);
    if (f.listed_in_connection(i)) *out += " [hop]";
    *out += "\n";
  }
}

std::string HeadText(const RequestHead& h) {
  std::string s = "REQ " + std::string(h.method_text()) + " " + std::string(h.target()) + " 1." +
                  std::to_string(h.version_minor()) + " host=" + std::string(h.host()) + " " +
                  FramingText(h) + " ka=" + (h.keep_alive() ? "1" : "0");
  if (h.expect_continue()) s += " continue";
  if (h.upgrade()) s += " upgrade";
  s += "\n";
  AppendFields(h.fields(), &s);
  return s;
}

std::string HeadText(const ResponseHead& h) {
  std::string s = "RESP 1." + std::to_string(h.version_minor()) + " " + std::to_string(h.status()) +
                  " " + std::string(h.reason()) + " " + FramingText(h) +
                  " ka=" + (h.keep_alive() ? "1" : "0");
  if (h.tunnel()) s += " tunnel";
  s += "\n";
  AppendFields(h.fields(), &s);
  return s;
}

template <class Head>
class Driver {
 public:
  Driver(const DriveOptions& options) : options_(options), parser_(options.limits) {
    for (const ResponseExpectation& e : options.expectations) expectations_.push_back(e);
    if constexpr (!Head::kIsRequest) NextExpectation();
  }

  std::string Run(std::string_view input, const Splits& splits) {
    size_t at = 0;
    for (size_t n : splits) {
      if (stopped_) break;
      n = std::min(n, input.size() - at);
      Feed(input.substr(at, n));
      at += n;
    }
    if (!stopped_ && at < input.size()) Feed(input.substr(at));
    if (!stopped_ && options_.finish) {
      Handle(parser_.Finish(), std::string_view());
      if (!stopped_) Pump();
    }
    Flush();
    return out_;
  }

 private:
  void NextExpectation() {
    if constexpr (!Head::kIsRequest) {
      if (!expectations_.empty()) {
        parser_.ExpectResponse(expectations_.front());
        expectations_.pop_front();
      }
    }
  }

  void Feed(std::string_view chunk) {
    buffer_.append(chunk);
    Pump();
  }

  void Pump() {
    for (int guard = 0; !stopped_; ++guard) {
      if (guard > 1000000) {
        Violation("no progress");
        return;
      }
      const Step step = parser_.Parse(buffer_);
      if (step.consumed > buffer_.size()) {
        Violation("consumed > size");
        return;
      }
      if (!step.data.empty()) {
        const auto* b = reinterpret_cast<const uint8_t*>(buffer_.data());
        if (step.data.data() < b || step.data.data() + step.data.size() > b + buffer_.size() ||
            step.data.data() + step.data.size() > b + step.consumed) {
          Violation("data outside the consumed input");
          return;
        }
      }
      Handle(step, buffer_);
      buffer_.erase(0, step.consumed);
      if (step.event == Event::kNeedMore) {
        if (parser_.pending() != buffer_.size()) Violation("pending != bytes kept");
        return;
      }
    }
  }

  void Handle(const Step& step, std::string_view) {
    const std::string_view data(reinterpret_cast<const char*>(step.data.data()), step.data.size());
    switch (step.event) {
      case Event::kNeedMore:
        return;
      case Event::kBody:
        Append("BODY ", data);
        return;
      case Event::kTunnel:
        Append("TUNNEL ", data);
        return;
      default:
        break;
    }
    Flush();
    switch (step.event) {
      case Event::kHead:
        out_ += HeadText(parser_.head());
        if constexpr (!Head::kIsRequest) {
          // After an interim response the same expectation holds.
        }
        break;
      case Event::kTrailers: {
        out_ += "TRAILERS";
        const FieldBlock& t = parser_.trailers();
        for (size_t i = 0; i < t.size(); ++i) {
          out_ += (i == 0 ? " " : "; ");
          out_ += t.name(i);
          out_ += ": ";
          out_ += t.value(i);
        }
        out_ += "\n";
        break;
      }
      case Event::kMessageComplete:
        out_ += "COMPLETE\n";
        NextExpectation();
        break;
      case Event::kPaused:
        out_ += "PAUSED\n";
        if constexpr (Head::kIsRequest) {
          if (options_.accept_upgrade) {
            parser_.AcceptUpgrade();
          } else if (options_.reject_upgrade) {
            parser_.RejectUpgrade();
          } else {
            stopped_ = true;
          }
        }
        break;
      case Event::kDone:
        out_ += "DONE\n";
        stopped_ = true;
        break;
      case Event::kError:
        out_ += "ERROR " + std::string(HttpErrorName(parser_.error())) + " " +
                std::to_string(parser_.error_status()) + "\n";
        stopped_ = true;
        break;
      default:
        break;
    }
  }

  void Append(const char* tag, std::string_view data) {
    if (open_tag_ != tag) Flush();
    open_tag_ = tag;
    open_data_.append(data);
  }

  void Flush() {
    if (open_tag_ == nullptr) return;
    out_ += open_tag_;
    out_ += open_data_;
    out_ += "\n";
    open_tag_ = nullptr;
    open_data_.clear();
  }

  void Violation(const char* what) {
    Flush();
    out_ += "VIOLATION ";
    out_ += what;
    out_ += "\n";
    stopped_ = true;
  }

  const DriveOptions& options_;
  BasicParser<Head> parser_;
  std::deque<ResponseExpectation> expectations_;
  std::string buffer_;
  std::string out_;
  const char* open_tag_ = nullptr;
  std::string open_data_;
  bool stopped_ = false;
};

}  // namespace

std::string DriveRequest(std::string_view input, const Splits& splits,
                         const DriveOptions& options) {
  return Driver<RequestHead>(options).Run(input, splits);
}

std::string DriveResponse(std::string_view input, const Splits& splits,
                          const DriveOptions& options) {
  return Driver<ResponseHead>(options).Run(input, splits);
}

std::vector<Splits> AllSplits(size_t size) {
  std::vector<Splits> all;
  for (size_t k = 0; k <= size; ++k) all.push_back({k});
  all.push_back(OneByteAtATime(size));
  return all;
}

}  // namespace locus::proxy::http::testing
