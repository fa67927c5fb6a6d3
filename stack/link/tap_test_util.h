// Helpers for tests that run DPDK against kernel interfaces: a private
// network namespace, shell commands, and a raw AF_PACKET socket for the
// kernel's side of a tap or veth. Test-only; needs root.
#ifndef LOCUS_STACK_LINK_TAP_TEST_UTIL_H_
#define LOCUS_STACK_LINK_TAP_TEST_UTIL_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "stack/base/time.h"
#include "stack/link/link.h"
#include "stack/wire/addresses.h"

namespace locus::link::testing {

// Moves this process into a new, empty network namespace (loopback up,
// IPv6 off so the kernel does not chatter on test interfaces). Everything
// made in it disappears when the process exits. Call before any thread
// starts.
absl::Status EnterPrivateNetns();

// Runs a shell command; an error with its output when it fails.
absl::Status Sh(const std::string& command);

wire::MacAddress InterfaceMac(const std::string& ifname);

// A raw socket on one interface: what it sends enters the kernel as if
// transmitted on the interface, and it sees every frame the interface
// receives.
class RawSocket {
 public:
  explicit RawSocket(const std::string& ifname);
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool ok() const { return fd_ >= 0; }
  bool Send(std::span<const uint8_t> frame);
  // Frames arriving on the interface (not ones it sends) for which `match`
  // is true, until `want` of them or `timeout`.
  std::vector<std::vector<uint8_t>> Receive(
      const std::function<bool(std::span<const uint8_t>)>& match, size_t want, Duration timeout);

 private:
  int fd_ = -1;
  int ifindex_ = 0;
};

// Polls `link` queue `queue` until `want` frames matching `match` arrived
// or `timeout`; frees the others. The caller owns the returned packets.
std::vector<Packet*> ReceiveMatching(Link& link, uint16_t queue,
                                     const std::function<bool(const Packet&)>& match,
                                     size_t want, Duration timeout);

// Transmits one packet, retrying while the port is busy; frees it and
// returns false if it never goes.
bool TransmitOne(Link& link, uint16_t queue, Packet* packet);

}  // namespace locus::link::testing

#endif  // LOCUS_STACK_LINK_TAP_TEST_UTIL_H_
