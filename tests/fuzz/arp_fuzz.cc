// Fuzzes ArpView/ArpPacket::Parse. Properties: a parsed packet has one of
// the two operations, and Emit reproduces its 28 bytes exactly (every field
// is either kept or validated to a constant).
#include <cstdint>
#include <cstring>
#include <span>

#include "stack/wire/arp.h"
#include "tests/fuzz/fuzz_check.h"

using namespace locus::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  ParseResult<ArpView> v = ArpView::Parse(in);
  ParseResult<ArpPacket> p = ArpPacket::Parse(in);
  FUZZ_CHECK(v.ok() == p.ok());
  if (!p.ok()) {
    FUZZ_CHECK(v.error() == p.error());
    FUZZ_CHECK(size >= kArpLength || p.error() == WireError::kTruncated);
    return 0;
  }
  FUZZ_CHECK(p->op == ArpOp::kRequest || p->op == ArpOp::kReply);
  FUZZ_CHECK(v->sender_ip() == p->sender_ip && v->target_mac() == p->target_mac);
  uint8_t out[kArpLength];
  p->Emit(out);
  FUZZ_CHECK(std::memcmp(out, data, kArpLength) == 0);
  ParseResult<ArpPacket> again = ArpPacket::Parse(out);
  FUZZ_CHECK(again.ok() && *again == *p);
  return 0;
}
