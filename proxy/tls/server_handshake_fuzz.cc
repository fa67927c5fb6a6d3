// Arbitrary bytes as everything a client sends to a TLS listener, fed in
// chunks whose size the first byte chooses (records split across reads).
// Properties: no crash or over-read (ASan), the handshake never completes
// (nobody can forge a Finished without our key share), and a failure is
// reported exactly once with a reason.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "proxy/tls/context_set.h"
#include "proxy/tls/server_connection.h"
#include "proxy/tls/test_peer.h"
#include "tests/fuzz/fuzz_check.h"

using namespace locus::proxy::tls;

namespace {

// Built once: key generation would dominate every run otherwise.
const std::shared_ptr<const TlsContextSet>& Set() {
  static const auto* set = [] {
    testing::SniFixture fixture;
    auto s = TlsContextSet::Create(fixture.settings);
    FUZZ_CHECK(s.ok());
    return new std::shared_ptr<const TlsContextSet>(*s);
  }();
  return *set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& set = Set();
  TlsCounters counters;
  auto server = TlsServerConnection::Create(set, set->Find("web"), &counters);
  FUZZ_CHECK(server != nullptr);
  std::span<const uint8_t> in(data, size);
  size_t chunk = 1 << 20;
  if (!in.empty()) {
    chunk = (in[0] & 0x3f) + 1;
    if (in[0] & 0x80) chunk = 1 << 20;  // half the inputs in one piece
    in = in.subspan(1);
  }
  uint8_t plain[256];
  while (!in.empty() && server->state() == TlsState::kHandshaking) {
    size_t n = server->FeedCiphertext(in.first(std::min(chunk, in.size())));
    if (n == 0) break;
    in = in.subspan(n);
    server->Advance();
    FUZZ_CHECK(server->ReadPlaintext(plain) == 0);
    while (size_t pending = server->PendingCiphertext().size()) {
      server->ConsumeCiphertext(pending);
    }
  }
  server->FeedEof();
  server->Advance();
  FUZZ_CHECK(!server->handshake_done());
  FUZZ_CHECK(server->state() == TlsState::kHandshaking ||
             server->state() == TlsState::kFailed);
  uint64_t failures = 0;
  for (const auto& c : counters.handshake_failures) failures += c.load();
  if (server->state() == TlsState::kFailed) {
    FUZZ_CHECK(server->failure() != TlsFailure::kNone);
    FUZZ_CHECK(failures == 1);
    FUZZ_CHECK(counters.handshake_failures[static_cast<size_t>(
                                               server->failure())]
                   .load() == 1);
  } else {
    FUZZ_CHECK(failures == 0);
  }
  FUZZ_CHECK(counters.handshakes_full.load() == 0);
  return 0;
}
