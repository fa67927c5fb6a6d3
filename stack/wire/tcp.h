// The TCP header and its options (RFC 9293 §3.1; options from RFC 9293
// §3.2, RFC 7323 for window scale and timestamps, RFC 2018 for SACK).
//
// Option parsing, decided per RFC 9293 §3.2 and §3.1 (MUST-64, MUST-7):
//   * EOL ends the list; NOP is skipped.
//   * An option whose length byte is missing, below 2, or runs past the
//     option space makes the whole segment kBadOption: there is no safe way
//     to find the next option, and RFC 9293 suggests treating it as an error.
//   * A known kind with the wrong fixed length (MSS != 4, window scale != 3,
//     SACK-permitted != 2, timestamps != 10, SACK not 2 + 8n with n >= 1) is
//     skipped by its length like an unknown option, the way Linux does: its
//     length is consistent with the option space, so skipping it is safe, and
//     MUST-64 asks us to ignore options we cannot use rather than fail.
//   * Unknown kinds are skipped by their length. A repeated option replaces
//     the earlier one.
// The parser reports what is on the wire. Rules that depend on connection
// state (MSS and window scale only count on a SYN, RFC 9293 §3.7.1 and RFC
// 7323 §2.2; a shift above kTcpMaxWindowScale is used as 14, RFC 7323 §2.3)
// belong to the TCP layer.
#ifndef LOCUS_STACK_WIRE_TCP_H_
#define LOCUS_STACK_WIRE_TCP_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "stack/wire/addresses.h"
#include "stack/wire/checksum.h"
#include "stack/wire/endian.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/seq_num.h"
#include "stack/wire/wire_error.h"

namespace locus::wire {

inline constexpr size_t kTcpMinHeaderLength = 20;
// The data offset is 4 bits of 32-bit words: at most 60 bytes of header.
inline constexpr size_t kTcpMaxOptionsLength = 40;
inline constexpr size_t kTcpMaxHeaderLength = kTcpMinHeaderLength + kTcpMaxOptionsLength;
// A SACK option of n blocks takes 2 + 8n bytes: at most 4 fit in 40.
inline constexpr size_t kTcpMaxSackBlocks = 4;
inline constexpr uint8_t kTcpMaxWindowScale = 14;

inline constexpr uint8_t kTcpOptionEnd = 0;
inline constexpr uint8_t kTcpOptionNop = 1;
inline constexpr uint8_t kTcpOptionMss = 2;
inline constexpr uint8_t kTcpOptionWindowScale = 3;
inline constexpr uint8_t kTcpOptionSackPermitted = 4;
inline constexpr uint8_t kTcpOptionSack = 5;
inline constexpr uint8_t kTcpOptionTimestamps = 8;

class TcpFlags {
 public:
  static constexpr uint8_t kFin = 0x01;
  static constexpr uint8_t kSyn = 0x02;
  static constexpr uint8_t kRst = 0x04;
  static constexpr uint8_t kPsh = 0x08;
  static constexpr uint8_t kAck = 0x10;
  static constexpr uint8_t kUrg = 0x20;
  static constexpr uint8_t kEce = 0x40;
  static constexpr uint8_t kCwr = 0x80;

  constexpr TcpFlags() = default;
  constexpr explicit TcpFlags(uint8_t bits) : bits_(bits) {}

  constexpr uint8_t bits() const { return bits_; }
  constexpr bool has(uint8_t mask) const { return (bits_ & mask) == mask; }
  constexpr bool fin() const { return has(kFin); }
  constexpr bool syn() const { return has(kSyn); }
  constexpr bool rst() const { return has(kRst); }
  constexpr bool psh() const { return has(kPsh); }
  constexpr bool ack() const { return has(kAck); }
  constexpr bool urg() const { return has(kUrg); }
  constexpr bool ece() const { return has(kEce); }
  constexpr bool cwr() const { return has(kCwr); }
  constexpr TcpFlags operator|(TcpFlags o) const { return TcpFlags(bits_ | o.bits_); }

  constexpr bool operator==(const TcpFlags&) const = default;

 private:
  uint8_t bits_ = 0;
};

struct SackBlock {
  SeqNum left;   // first sequence number of the block
  SeqNum right;  // sequence number just past the block
  bool operator==(const SackBlock&) const = default;
};

struct TcpTimestamps {
  uint32_t value = 0;       // TSval
  uint32_t echo_reply = 0;  // TSecr
  bool operator==(const TcpTimestamps&) const = default;
};

struct TcpOptions {
  std::optional<uint16_t> mss;
  std::optional<uint8_t> window_scale;  // shift count as received
  bool sack_permitted = false;
  std::optional<TcpTimestamps> timestamps;
  std::array<SackBlock, kTcpMaxSackBlocks> sack_blocks{};
  uint8_t sack_block_count = 0;  // blocks in use, at most kTcpMaxSackBlocks

  std::span<const SackBlock> sacks() const {
    return std::span<const SackBlock>(sack_blocks)
        .first(std::min<size_t>(sack_block_count, kTcpMaxSackBlocks));
  }
  // Appends a block; false (and nothing added) when kTcpMaxSackBlocks are held.
  bool AddSackBlock(SackBlock block);

  // Parses the bytes between the fixed header and the data. kBadOption for
  // malformed lengths (see the top of this file) and for more than
  // kTcpMaxOptionsLength bytes.
  static ParseResult<TcpOptions> Parse(std::span<const uint8_t> options);

  // Emit writes, in Linux's order, each group padded to 4 bytes with NOPs:
  //   MSS; SACK-permitted + timestamps (or NOP NOP timestamps, or NOP NOP
  //   SACK-permitted); NOP window scale; NOP NOP SACK blocks.
  // SACK blocks that would not fit in kTcpMaxOptionsLength are left out,
  // last ones first: RFC 2018 §4 wants the first block to be the newest.
  size_t emitted_sack_blocks() const;
  // Bytes Emit writes: a multiple of 4, at most kTcpMaxOptionsLength.
  size_t length() const;
  // Writes length() bytes at the front of `out`.
  void Emit(std::span<uint8_t> out) const;

  // Compares only the blocks in use.
  bool operator==(const TcpOptions& o) const;
};

class TcpView {
 public:
  // `segment` is the whole IPv4 payload; the addresses are the IPv4 header's
  // and feed the pseudo-header. Checks, in order: kTruncated (fewer than 20
  // bytes), kBadTotalLength (more than 65535 bytes, impossible over IPv4),
  // kBadHeaderLength (data offset < 5 or past the segment), kBadChecksum
  // (unless kSkip because the NIC verified it), kBadOption.
  static ParseResult<TcpView> Parse(std::span<const uint8_t> segment, Ipv4Address source,
                                    Ipv4Address destination,
                                    RxChecksum checksum = RxChecksum::kVerify);

  uint16_t source_port() const { return LoadBe16(bytes_.data()); }
  uint16_t destination_port() const { return LoadBe16(bytes_.data() + 2); }
  SeqNum seq() const { return SeqNum(LoadBe32(bytes_.data() + 4)); }
  SeqNum ack() const { return SeqNum(LoadBe32(bytes_.data() + 8)); }
  size_t header_length() const { return static_cast<size_t>(bytes_[12] >> 4) * 4; }
  // The four reserved bits (RFC 9293 §3.1) are ignored on receipt.
  TcpFlags flags() const { return TcpFlags(bytes_[13]); }
  uint16_t window() const { return LoadBe16(bytes_.data() + 14); }
  uint16_t checksum() const { return LoadBe16(bytes_.data() + 16); }
  uint16_t urgent_pointer() const { return LoadBe16(bytes_.data() + 18); }
  const TcpOptions& options() const { return options_; }
  std::span<const uint8_t> options_bytes() const {
    return bytes_.subspan(kTcpMinHeaderLength, header_length() - kTcpMinHeaderLength);
  }
  std::span<const uint8_t> payload() const { return bytes_.subspan(header_length()); }

  TcpView() = default;  // for ParseResult; not a valid view

 private:
  TcpView(std::span<const uint8_t> bytes, const TcpOptions& options)
      : bytes_(bytes), options_(options) {}
  std::span<const uint8_t> bytes_;
  TcpOptions options_;
};

struct TcpHeader {
  uint16_t source_port = 0;
  uint16_t destination_port = 0;
  SeqNum seq;
  SeqNum ack;
  TcpFlags flags;
  uint16_t window = 0;
  uint16_t urgent_pointer = 0;
  TcpOptions options;

  static ParseResult<TcpHeader> Parse(std::span<const uint8_t> segment, Ipv4Address source,
                                      Ipv4Address destination,
                                      RxChecksum checksum = RxChecksum::kVerify);
  size_t length() const { return kTcpMinHeaderLength + options.length(); }
  // Writes length() bytes at the front of `segment`, the whole TCP segment
  // with its payload already in place after the header (at most 65535
  // bytes). kCompute stores the full checksum over the pseudo-header for
  // (source, destination) and all of `segment`; kOffload stores only the
  // pseudo-header sum, which the NIC completes.
  void Emit(std::span<uint8_t> segment, Ipv4Address source, Ipv4Address destination,
            TxChecksum checksum = TxChecksum::kCompute) const;

  bool operator==(const TcpHeader&) const = default;
};

}  // namespace locus::wire

#endif  // LOCUS_STACK_WIRE_TCP_H_
