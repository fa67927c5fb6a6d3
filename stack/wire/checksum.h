// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's
// complement sum of the data taken as big-endian 16-bit words.
//
// InternetChecksum accumulates any number of spans (odd lengths included, at
// any position) and scalar fields, then folds once at the end. That is what
// the TCP checksum needs: pseudo-header, header and payload live in
// different places. ChecksumUpdate16/32 patch a stored checksum after a field
// changed, per RFC 1624 eqn. 3, without touching the rest of the data.
#ifndef LOCUS_STACK_WIRE_CHECKSUM_H_
#define LOCUS_STACK_WIRE_CHECKSUM_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/wire/addresses.h"

namespace locus::wire {

// What a parser does with a received checksum. kSkip is for packets whose
// checksum the NIC has already verified (RX offload flags), never a default.
enum class RxChecksum : uint8_t { kVerify, kSkip };

// What an emitter writes into a checksum field. kOffload leaves the work to
// the NIC: the IPv4 header checksum is left zero, the TCP checksum is seeded
// with the pseudo-header sum (the convention of DPDK and of Linux's
// CHECKSUM_PARTIAL).
enum class TxChecksum : uint8_t { kCompute, kOffload };

class InternetChecksum {
 public:
  InternetChecksum() = default;

  // Adds bytes that directly follow whatever was added before. An odd-length
  // span leaves the next span starting in the low half of a word; that is
  // handled (RFC 1071 §2(B): sums of byte-swapped data are byte-swapped).
  void Add(std::span<const uint8_t> bytes);
  // Adds an aligned big-endian field given in host order. Only valid while
  // the byte stream added so far has even length.
  void AddBe16(uint16_t v) { sum_ += v; }
  void AddBe32(uint32_t v) { sum_ += (v >> 16) + (v & 0xffff); }
  // Adds a partial sum folded earlier (e.g. PseudoHeaderSum()).
  void AddFolded(uint16_t folded) { sum_ += folded; }

  // The one's complement sum folded to 16 bits, not complemented: the
  // partial sum that checksum offload wants in the field. A buffer whose
  // stored checksum is right folds to 0xffff.
  uint16_t Folded() const;
  // The value to store in a checksum field: ~Folded().
  uint16_t Checksum() const { return static_cast<uint16_t>(~Folded()); }

 private:
  uint64_t sum_ = 0;
  bool odd_ = false;  // an odd number of bytes has been added so far
};

// Checksum to store for `bytes` alone (IPv4 header, ICMP message).
uint16_t ComputeChecksum(std::span<const uint8_t> bytes);

// True when `bytes`, with its checksum field in place, sums to 0xffff.
bool ChecksumIsValid(std::span<const uint8_t> bytes);

// Folded sum of the IPv4 pseudo-header used by TCP and UDP (RFC 9293 §3.1):
// source, destination, zero, protocol, and the transport length in bytes.
uint16_t PseudoHeaderSum(Ipv4Address source, Ipv4Address destination, uint8_t protocol,
                         uint16_t length);

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). `checksum` is the stored field,
// `old_value`/`new_value` the 16-bit word (or aligned 32-bit pair of words)
// that changed, all in host order. The result equals a full recomputation
// except when all the covered data becomes zero: then this gives 0x0000
// (-0), which does not verify, where recomputation gives 0xffff (+0). IPv4
// and TCP always cover nonzero bytes (version, protocol), but an ICMP echo
// reply with zero id and sequence and no data is all zero: callers to which
// that can happen recompute when the result is 0x0000 (MakeEchoReplyInPlace).
uint16_t ChecksumUpdate16(uint16_t checksum, uint16_t old_value, uint16_t new_value);
uint16_t ChecksumUpdate32(uint16_t checksum, uint32_t old_value, uint32_t new_value);

}  // namespace locus::wire

#endif  // LOCUS_STACK_WIRE_CHECKSUM_H_
