#include "stack/tcp_support/syn_cookie.h"

namespace locus::tcp {
namespace {

constexpr uint8_t kPadDomain = 'P';
constexpr uint8_t kMacDomain = 'C';

constexpr int kCounterShift = 32 - SynCookies::kCounterBits;  // 29
constexpr int kMssShift = SynCookies::kMacBits;               // 27
constexpr uint32_t kCounterMask = (1u << SynCookies::kCounterBits) - 1;
constexpr uint32_t kMssMask = (1u << SynCookies::kMssBits) - 1;
constexpr uint32_t kMacMask = (1u << SynCookies::kMacBits) - 1;

void Put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

constexpr uint32_t kTsMask = (1u << kCookieTsBits) - 1;
constexpr uint32_t kTsNoWindowScale = 15;
constexpr uint32_t kTsSackBit = 1u << 4;
constexpr uint8_t kMaxWindowScale = 14;  // RFC 7323 §2.3

}  // namespace

uint32_t SynCookies::Counter(Instant now) {
  const int64_t slot = kSlot.nanos();
  int64_t counter = now.nanos() / slot;
  if (now.nanos() % slot < 0) --counter;  // floor, monotonic across zero
  return static_cast<uint32_t>(counter);
}

uint32_t SynCookies::Pad(const Ipv4Tuple& tuple, uint32_t client_isn) const {
  uint8_t m[1 + Ipv4Tuple::kEncodedSize + 4];
  m[0] = kPadDomain;
  tuple.Encode(m + 1);
  Put32(m + 1 + Ipv4Tuple::kEncodedSize, client_isn);
  return static_cast<uint32_t>(SipHash24(key_, m));
}

uint32_t SynCookies::Mac(const Ipv4Tuple& tuple, uint32_t client_isn, uint32_t counter,
                         uint32_t mss_index) const {
  uint8_t m[1 + Ipv4Tuple::kEncodedSize + 4 + 4 + 1];
  m[0] = kMacDomain;
  tuple.Encode(m + 1);
  Put32(m + 1 + Ipv4Tuple::kEncodedSize, client_isn);
  Put32(m + 1 + Ipv4Tuple::kEncodedSize + 4, counter);
  m[sizeof(m) - 1] = static_cast<uint8_t>(mss_index);
  return static_cast<uint32_t>(SipHash24(key_, m)) & kMacMask;
}

SynCookies::Issued SynCookies::Issue(const Ipv4Tuple& tuple, wire::SeqNum client_isn,
                                     uint16_t client_mss, Instant now) const {
  uint32_t index = kMssTable.size() - 1;
  while (index > 0 && kMssTable[index] > client_mss) --index;
  const uint32_t counter = Counter(now);
  const uint32_t plain = ((counter & kCounterMask) << kCounterShift) | (index << kMssShift) |
                         Mac(tuple, client_isn.raw(), counter, index);
  return Issued{wire::SeqNum(plain ^ Pad(tuple, client_isn.raw())), kMssTable[index]};
}

CookieCheck SynCookies::Check(const Ipv4Tuple& tuple, wire::SeqNum seg_seq, wire::SeqNum seg_ack,
                              Instant now) const {
  const uint32_t client_isn = (seg_seq - 1).raw();
  const uint32_t plain = (seg_ack - 1).raw() ^ Pad(tuple, client_isn);
  const uint32_t current = Counter(now);
  // Modulo 2^kCounterBits, so slot 7 -> 8 (counter bits 111 -> 000) is age 1.
  const uint32_t age = (current - (plain >> kCounterShift)) & kCounterMask;
  if (age > kMaxAgeSlots) return CookieCheck{CookieVerdict::kExpired, 0};
  const uint32_t index = (plain >> kMssShift) & kMssMask;
  if ((plain & kMacMask) != Mac(tuple, client_isn, current - age, index)) {
    return CookieCheck{CookieVerdict::kBadMac, 0};
  }
  return CookieCheck{CookieVerdict::kValid, kMssTable[index]};
}

uint32_t EncodeCookieTsval(uint32_t ts_now, const CookieOptions& options) {
  uint32_t bits = kTsNoWindowScale;
  if (options.window_scale) {
    bits = *options.window_scale > kMaxWindowScale ? kMaxWindowScale : *options.window_scale;
  }
  if (options.sack_permitted) bits |= kTsSackBit;
  uint32_t ts = (ts_now & ~kTsMask) | bits;
  if (bits > (ts_now & kTsMask)) ts -= kTsMask + 1;  // modulo 2^32, like all TS values
  return ts;
}

CookieOptions DecodeCookieTsecr(uint32_t tsecr) {
  CookieOptions options;
  const uint32_t wscale = tsecr & 0xf;
  if (wscale != kTsNoWindowScale) options.window_scale = static_cast<uint8_t>(wscale);
  options.sack_permitted = (tsecr & kTsSackBit) != 0;
  return options;
}

}  // namespace locus::tcp
