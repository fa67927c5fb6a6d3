#include "stack/wire/ethernet.h"

#include <cassert>

namespace locus::wire {

ParseResult<EthernetView> EthernetView::Parse(std::span<const uint8_t> frame) {
  if (frame.size() < kEthernetHeaderLength) return WireError::kTruncated;
  EthernetView view(frame);
  if (view.ether_type() < kMinEtherType) return WireError::kUnsupported;  // 802.3 length frame
  return view;
}

ParseResult<EthernetHeader> EthernetHeader::Parse(std::span<const uint8_t> frame) {
  ParseResult<EthernetView> view = EthernetView::Parse(frame);
  if (!view.ok()) return view.error();
  return EthernetHeader{view->destination(), view->source(), view->ether_type()};
}

void EthernetHeader::Emit(std::span<uint8_t> out) const {
  assert(out.size() >= kEthernetHeaderLength);
  destination.CopyTo(out.data());
  source.CopyTo(out.data() + 6);
  StoreBe16(out.data() + 12, ether_type);
}

}  // namespace locus::wire
