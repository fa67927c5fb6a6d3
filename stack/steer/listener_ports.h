// The set of local TCP ports that have a listener, as an immutable
// snapshot. The control plane builds a new set whenever listeners change
// and publishes it; each core keeps a pointer to the snapshot it last
// picked up and passes the set by reference on the per-packet path, so a
// lookup is one load and a shift, and no reference count is touched.
#ifndef LOCUS_STACK_STEER_LISTENER_PORTS_H_
#define LOCUS_STACK_STEER_LISTENER_PORTS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>

namespace locus::steer {

class ListenerPortSet {
 public:
  static constexpr size_t kPortCount = 65536;
  // 65536 bits: 8 KiB per snapshot.
  static constexpr size_t kWords = kPortCount / 64;

  ListenerPortSet() = default;
  explicit ListenerPortSet(std::span<const uint16_t> ports);
  ListenerPortSet(std::initializer_list<uint16_t> ports)
      : ListenerPortSet(std::span<const uint16_t>(ports.begin(), ports.size())) {}

  // A snapshot to publish. Duplicates in `ports` are harmless.
  static std::shared_ptr<const ListenerPortSet> Create(std::span<const uint16_t> ports);
  // The same set plus (or minus) one port, leaving this snapshot untouched.
  std::shared_ptr<const ListenerPortSet> With(uint16_t port) const;
  std::shared_ptr<const ListenerPortSet> Without(uint16_t port) const;
  // A shared empty set, for cores that have not received a snapshot yet.
  static const ListenerPortSet& Empty();

  bool Contains(uint16_t port) const { return (bits_[port >> 6] >> (port & 63)) & 1; }
  size_t size() const;

 private:
  std::array<uint64_t, kWords> bits_{};
};

}  // namespace locus::steer

#endif  // LOCUS_STACK_STEER_LISTENER_PORTS_H_
