// An inbound TCP segment after parsing: header fields, options, and the
// packet whose data() is exactly the payload.
#ifndef LOCUS_STACK_TCP_SEGMENT_H_
#define LOCUS_STACK_TCP_SEGMENT_H_

#include <cstdint>

#include "stack/link/packet.h"
#include "stack/wire/seq_num.h"
#include "stack/wire/tcp.h"

namespace locus::tcp {

struct Segment {
  wire::SeqNum seq;
  wire::SeqNum ack;
  uint8_t flags = 0;    // wire::kTcpFlag*
  uint16_t window = 0;  // as on the wire, unscaled
  wire::TcpOptions options;
  uint32_t payload_length = 0;
  link::Packet* packet = nullptr;  // owned by whoever processes the segment

  bool syn() const { return (flags & wire::TcpFlags::kSyn) != 0; }
  bool fin() const { return (flags & wire::TcpFlags::kFin) != 0; }
  bool rst() const { return (flags & wire::TcpFlags::kRst) != 0; }
  bool has_ack() const { return (flags & wire::TcpFlags::kAck) != 0; }
  // SEG.LEN of RFC 9293 §3.4: SYN and FIN each occupy one sequence number.
  uint32_t length() const { return payload_length + (syn() ? 1 : 0) + (fin() ? 1 : 0); }
};

}  // namespace locus::tcp

#endif  // LOCUS_STACK_TCP_SEGMENT_H_
