// Parse throughput for a typical ~300-byte browser-like GET, whole and
// pipelined, plus the cost of re-serialising it for the backend.
//   bazel run -c opt //proxy/http:http_parser_bench
#include <string>

#include "benchmark/benchmark.h"
#include "proxy/http/forward.h"
#include "proxy/http/http_parser.h"

namespace locus::proxy::http {
namespace {

const std::string& TypicalRequest() {
  static const std::string r =
      "GET /api/v1/items/12345?fields=name,price&lang=en HTTP/1.1\r\n"
      "Host: shop.example.com\r\n"
      "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
      "Accept: application/json\r\n"
      "Accept-Language: en-US,en;q=0.5\r\n"
      "Accept-Encoding: gzip, deflate, br\r\n"
      "Cookie: session=0123456789abcdef\r\n"
      "Connection: keep-alive\r\n"
      "\r\n";
  return r;
}

void BM_ParseTypicalRequest(benchmark::State& state) {
  const std::string& req = TypicalRequest();
  RequestParser parser;
  for (auto _ : state) {
    Step s = parser.Parse(req);
    benchmark::DoNotOptimize(s);
    if (s.event != Event::kHead) state.SkipWithError("no head");
    s = parser.Parse(std::string_view(req).substr(s.consumed));
    if (s.event != Event::kMessageComplete) state.SkipWithError("no completion");
    benchmark::DoNotOptimize(parser.head().host());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * req.size()));
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::to_string(req.size()) + "-byte request");
}
BENCHMARK(BM_ParseTypicalRequest);

// The same request arriving in 16-byte pieces (the parser resumes, never
// rescans).
void BM_ParseTypicalRequestIn16ByteReads(benchmark::State& state) {
  const std::string& req = TypicalRequest();
  for (auto _ : state) {
    RequestParser parser;
    size_t have = 0;
    size_t dropped = 0;
    Step s;
    while (have < req.size()) {
      have = std::min(req.size(), have + 16);
      s = parser.Parse(std::string_view(req).substr(dropped, have - dropped));
      dropped += s.consumed;
      if (s.event == Event::kHead) break;
    }
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * req.size()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseTypicalRequestIn16ByteReads);

void BM_ParsePipelined(benchmark::State& state) {
  std::string many;
  for (int i = 0; i < 16; ++i) many += TypicalRequest();
  RequestParser parser;
  for (auto _ : state) {
    std::string_view in = many;
    int complete = 0;
    while (!in.empty()) {
      const Step s = parser.Parse(in);
      complete += s.event == Event::kMessageComplete;
      in.remove_prefix(s.consumed);
      if (s.event == Event::kError) state.SkipWithError("error");
    }
    const Step last = parser.Parse(in);  // the final kMessageComplete
    complete += last.event == Event::kMessageComplete;
    benchmark::DoNotOptimize(complete);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * many.size()));
  state.SetItemsProcessed(state.iterations() * 16);
}
BENCHMARK(BM_ParsePipelined);

void BM_ForwardTypicalRequest(benchmark::State& state) {
  const std::string& req = TypicalRequest();
  RequestParser parser;
  parser.Parse(req);
  RequestForwarding f;
  f.client_address = "203.0.113.77";
  char out[1024];
  for (auto _ : state) {
    const size_t n = WriteRequestHead(parser.head(), f, ChooseRequestFraming(parser.head()), out);
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ForwardTypicalRequest);

}  // namespace
}  // namespace locus::proxy::http

BENCHMARK_MAIN();
