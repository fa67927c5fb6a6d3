#include "stack/wire/tcp.h"

#include <algorithm>
#include <cassert>

namespace locus::wire {
namespace {

constexpr size_t kSackBlockLength = 8;
constexpr size_t kLengthMss = 4;
constexpr size_t kLengthWindowScale = 3;
constexpr size_t kLengthSackPermitted = 2;
constexpr size_t kLengthTimestamps = 10;
constexpr size_t kLengthSackBase = 2;
constexpr size_t kMaxSegmentLength = 65535;  // the pseudo-header's length is 16 bits

// Option bytes Emit writes before the SACK blocks.
size_t LengthWithoutSack(const TcpOptions& o) {
  size_t n = 0;
  if (o.mss) n += 4;
  if (o.timestamps || o.sack_permitted) n += o.timestamps ? 12 : 4;
  if (o.window_scale) n += 4;
  return n;
}

}  // namespace

bool TcpOptions::AddSackBlock(SackBlock block) {
  if (sack_block_count >= kTcpMaxSackBlocks) return false;
  sack_blocks[sack_block_count++] = block;
  return true;
}

ParseResult<TcpOptions> TcpOptions::Parse(std::span<const uint8_t> options) {
  if (options.size() > kTcpMaxOptionsLength) return WireError::kBadOption;
  TcpOptions out;
  const uint8_t* p = options.data();
  const size_t n = options.size();
  size_t i = 0;
  while (i < n) {
    uint8_t kind = p[i];
    if (kind == kTcpOptionEnd) break;
    if (kind == kTcpOptionNop) {
      ++i;
      continue;
    }
    // Every other kind has a length byte that counts kind and length too.
    if (n - i < 2) return WireError::kBadOption;
    size_t len = p[i + 1];
    if (len < 2 || len > n - i) return WireError::kBadOption;
    const uint8_t* body = p + i + 2;
    switch (kind) {
      case kTcpOptionMss:
        if (len == kLengthMss) out.mss = LoadBe16(body);
        break;
      case kTcpOptionWindowScale:
        if (len == kLengthWindowScale) out.window_scale = body[0];
        break;
      case kTcpOptionSackPermitted:
        if (len == kLengthSackPermitted) out.sack_permitted = true;
        break;
      case kTcpOptionTimestamps:
        if (len == kLengthTimestamps) {
          out.timestamps = TcpTimestamps{LoadBe32(body), LoadBe32(body + 4)};
        }
        break;
      case kTcpOptionSack:
        // len <= 40 here, so there are at most kTcpMaxSackBlocks blocks.
        if (len > kLengthSackBase && (len - kLengthSackBase) % kSackBlockLength == 0) {
          size_t blocks = (len - kLengthSackBase) / kSackBlockLength;
          assert(blocks <= kTcpMaxSackBlocks);
          out.sack_block_count = 0;
          for (size_t b = 0; b < blocks; ++b) {
            const uint8_t* q = body + b * kSackBlockLength;
            out.AddSackBlock(SackBlock{SeqNum(LoadBe32(q)), SeqNum(LoadBe32(q + 4))});
          }
        }
        break;
      default:
        break;  // unknown: skipped by its length (RFC 9293 MUST-64)
    }
    i += len;
  }
  return out;
}

size_t TcpOptions::emitted_sack_blocks() const {
  size_t room = kTcpMaxOptionsLength - LengthWithoutSack(*this);
  if (sacks().empty() || room < 4 + kSackBlockLength) return 0;
  return std::min<size_t>(sacks().size(), (room - 4) / kSackBlockLength);
}

size_t TcpOptions::length() const {
  size_t sacks = emitted_sack_blocks();
  return LengthWithoutSack(*this) + (sacks == 0 ? 0 : 4 + sacks * kSackBlockLength);
}

void TcpOptions::Emit(std::span<uint8_t> out) const {
  assert(out.size() >= length());
  uint8_t* p = out.data();
  if (mss) {
    p[0] = kTcpOptionMss;
    p[1] = kLengthMss;
    StoreBe16(p + 2, *mss);
    p += 4;
  }
  if (timestamps) {
    if (sack_permitted) {
      p[0] = kTcpOptionSackPermitted;
      p[1] = kLengthSackPermitted;
    } else {
      p[0] = p[1] = kTcpOptionNop;
    }
    p[2] = kTcpOptionTimestamps;
    p[3] = kLengthTimestamps;
    StoreBe32(p + 4, timestamps->value);
    StoreBe32(p + 8, timestamps->echo_reply);
    p += 12;
  } else if (sack_permitted) {
    p[0] = p[1] = kTcpOptionNop;
    p[2] = kTcpOptionSackPermitted;
    p[3] = kLengthSackPermitted;
    p += 4;
  }
  if (window_scale) {
    p[0] = kTcpOptionNop;
    p[1] = kTcpOptionWindowScale;
    p[2] = kLengthWindowScale;
    p[3] = *window_scale;
    p += 4;
  }
  if (size_t sacks = emitted_sack_blocks(); sacks > 0) {
    p[0] = p[1] = kTcpOptionNop;
    p[2] = kTcpOptionSack;
    p[3] = static_cast<uint8_t>(kLengthSackBase + sacks * kSackBlockLength);
    p += 4;
    for (size_t b = 0; b < sacks; ++b) {
      StoreBe32(p, sack_blocks[b].left.raw());
      StoreBe32(p + 4, sack_blocks[b].right.raw());
      p += kSackBlockLength;
    }
  }
}

bool TcpOptions::operator==(const TcpOptions& o) const {
  if (mss != o.mss || window_scale != o.window_scale || sack_permitted != o.sack_permitted ||
      timestamps != o.timestamps || sacks().size() != o.sacks().size()) {
    return false;
  }
  return std::equal(sacks().begin(), sacks().end(), o.sacks().begin());
}

ParseResult<TcpView> TcpView::Parse(std::span<const uint8_t> segment, Ipv4Address source,
                                    Ipv4Address destination, RxChecksum checksum) {
  if (segment.size() < kTcpMinHeaderLength) return WireError::kTruncated;
  if (segment.size() > kMaxSegmentLength) return WireError::kBadTotalLength;
  size_t header_length = static_cast<size_t>(segment[12] >> 4) * 4;
  if (header_length < kTcpMinHeaderLength || header_length > segment.size()) {
    return WireError::kBadHeaderLength;
  }
  if (checksum == RxChecksum::kVerify) {
    InternetChecksum sum;
    sum.AddFolded(PseudoHeaderSum(source, destination, kIpProtocolTcp,
                                  static_cast<uint16_t>(segment.size())));
    sum.Add(segment);
    if (sum.Folded() != 0xffff) return WireError::kBadChecksum;
  }
  ParseResult<TcpOptions> options =
      TcpOptions::Parse(segment.subspan(kTcpMinHeaderLength, header_length - kTcpMinHeaderLength));
  if (!options.ok()) return options.error();
  return TcpView(segment, *options);
}

ParseResult<TcpHeader> TcpHeader::Parse(std::span<const uint8_t> segment, Ipv4Address source,
                                        Ipv4Address destination, RxChecksum checksum) {
  ParseResult<TcpView> v = TcpView::Parse(segment, source, destination, checksum);
  if (!v.ok()) return v.error();
  return TcpHeader{v->source_port(), v->destination_port(), v->seq(),
                   v->ack(),         v->flags(),            v->window(),
                   v->urgent_pointer(), v->options()};
}

void TcpHeader::Emit(std::span<uint8_t> segment, Ipv4Address source, Ipv4Address destination,
                     TxChecksum checksum) const {
  const size_t header_length = length();
  assert(segment.size() >= header_length && segment.size() <= kMaxSegmentLength);
  uint8_t* p = segment.data();
  StoreBe16(p, source_port);
  StoreBe16(p + 2, destination_port);
  StoreBe32(p + 4, seq.raw());
  StoreBe32(p + 8, ack.raw());
  p[12] = static_cast<uint8_t>((header_length / 4) << 4);  // reserved bits zero
  p[13] = flags.bits();
  StoreBe16(p + 14, window);
  StoreBe16(p + 16, 0);
  StoreBe16(p + 18, urgent_pointer);
  options.Emit(segment.subspan(kTcpMinHeaderLength));
  uint16_t pseudo = PseudoHeaderSum(source, destination, kIpProtocolTcp,
                                    static_cast<uint16_t>(segment.size()));
  if (checksum == TxChecksum::kOffload) {
    StoreBe16(p + 16, pseudo);
    return;
  }
  InternetChecksum sum;
  sum.AddFolded(pseudo);
  sum.Add(segment);
  StoreBe16(p + 16, sum.Checksum());
}

}  // namespace locus::wire
