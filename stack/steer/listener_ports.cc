#include "stack/steer/listener_ports.h"

#include <bit>

namespace locus::steer {

ListenerPortSet::ListenerPortSet(std::span<const uint16_t> ports) {
  for (uint16_t p : ports) bits_[p >> 6] |= uint64_t{1} << (p & 63);
}

std::shared_ptr<const ListenerPortSet> ListenerPortSet::Create(std::span<const uint16_t> ports) {
  return std::make_shared<const ListenerPortSet>(ports);
}

std::shared_ptr<const ListenerPortSet> ListenerPortSet::With(uint16_t port) const {
  auto copy = std::make_shared<ListenerPortSet>(*this);
  copy->bits_[port >> 6] |= uint64_t{1} << (port & 63);
  return copy;
}

std::shared_ptr<const ListenerPortSet> ListenerPortSet::Without(uint16_t port) const {
  auto copy = std::make_shared<ListenerPortSet>(*this);
  copy->bits_[port >> 6] &= ~(uint64_t{1} << (port & 63));
  return copy;
}

const ListenerPortSet& ListenerPortSet::Empty() {
  static const ListenerPortSet* const empty = new ListenerPortSet();
  return *empty;
}

size_t ListenerPortSet::size() const {
  size_t n = 0;
  for (uint64_t w : bits_) n += static_cast<size_t>(std::popcount(w));
  return n;
}

}  // namespace locus::steer
