// Internet checksums as a NIC computes them for offload: used by links that
// emulate checksum offload (MemoryLink) or that are asked for an offload the
// port lacks (DpdkLink falls back to these), and by tests that check what a
// port produced.
#ifndef LOCUS_STACK_LINK_CHECKSUM_H_
#define LOCUS_STACK_LINK_CHECKSUM_H_

#include <cstddef>
#include <cstdint>

#include "stack/link/packet.h"

namespace locus::link {

// One's-complement sum of `length` bytes (big-endian 16-bit words, an odd
// last byte padded with zero) added to `sum`; not folded.
uint32_t ChecksumAdd(const uint8_t* data, size_t length, uint32_t sum = 0);
// Folds a 32-bit sum to 16 bits (not inverted).
uint16_t ChecksumFold(uint32_t sum);

// The TCP/UDP pseudo-header sum of an IPv4 header, folded and not inverted,
// as a number: store it with wire::StoreBe16 into the TCP checksum field to
// seed kTxTcpChecksum. The L4 length is total length minus the header
// length (IHL). `ipv4_header` must hold at least 20 bytes. DPDK's
// rte_ipv4_phdr_cksum(header, 0) computes the same thing but returns it in
// memory order (to be stored as-is), i.e. byte-swapped on x86.
uint16_t Ipv4PseudoHeaderSum(const uint8_t* ipv4_header);

// Does in software what a port does for the TX offload flags of `packet`
// (see PacketFlags) and clears them. Returns false, leaving the bytes alone,
// when the flags do not match the frame (lengths out of range, not IPv4,
// not TCP for kTxTcpChecksum).
bool ApplyTxChecksums(Packet& packet);

// Verifies the IPv4 header checksum and, for an unfragmented TCP or UDP
// payload, the L4 checksum of an Ethernet frame, and sets the matching
// kRx*ChecksumGood/Bad flags as a port with RX checksum offload would.
// Leaves the flags clear for anything it does not check.
void MarkRxChecksums(Packet& packet);

}  // namespace locus::link

#endif  // LOCUS_STACK_LINK_CHECKSUM_H_
