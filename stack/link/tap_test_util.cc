#include "stack/link/tap_test_util.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"

namespace locus::link::testing {

absl::Status EnterPrivateNetns() {
  if (unshare(CLONE_NEWNET) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("unshare(CLONE_NEWNET): ", std::strerror(errno), " (tests tagged 'tap' need root)"));
  }
  if (absl::Status s = Sh("ip link set lo up"); !s.ok()) return s;
  for (const char* path : {"/proc/sys/net/ipv6/conf/all/disable_ipv6",
                           "/proc/sys/net/ipv6/conf/default/disable_ipv6"}) {
    std::FILE* f = std::fopen(path, "w");
    if (f == nullptr) continue;  // no IPv6 in this kernel: nothing to silence
    std::fputs("1\n", f);
    std::fclose(f);
  }
  return absl::OkStatus();
}

absl::Status Sh(const std::string& command) {
  // Bazel runs tests with a minimal PATH; ip and friends live in sbin.
  const std::string full = "PATH=/usr/sbin:/usr/bin:/sbin:/bin; " + command + " 2>&1";
  std::FILE* f = popen(full.c_str(), "r");
  if (f == nullptr) return absl::InternalError(absl::StrCat("popen: ", command));
  std::string out;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  const int rc = pclose(f);
  if (rc != 0) return absl::InternalError(absl::StrCat("`", command, "` failed: ", out));
  return absl::OkStatus();
}

wire::MacAddress InterfaceMac(const std::string& ifname) {
  ifreq req{};
  std::strncpy(req.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  wire::MacAddress mac;
  if (fd >= 0 && ioctl(fd, SIOCGIFHWADDR, &req) == 0) {
    mac = wire::MacAddress::FromBytes(reinterpret_cast<const uint8_t*>(req.ifr_hwaddr.sa_data));
  }
  if (fd >= 0) close(fd);
  return mac;
}

RawSocket::RawSocket(const std::string& ifname) {
  ifindex_ = static_cast<int>(if_nametoindex(ifname.c_str()));
  if (ifindex_ == 0) return;
  fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd_ < 0) return;
  // Tests send hundreds of frames before reading them back; the default
  // receive buffer holds far fewer small frames than that.
  const int buffer = 8 << 20;
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(ETH_P_ALL);
  addr.sll_ifindex = ifindex_;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd_);
    fd_ = -1;
  }
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) close(fd_);
}

bool RawSocket::Send(std::span<const uint8_t> frame) {
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_ifindex = ifindex_;
  addr.sll_halen = 6;
  std::memcpy(addr.sll_addr, frame.data(), 6);
  return sendto(fd_, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&addr),
                sizeof addr) == static_cast<ssize_t>(frame.size());
}

std::vector<std::vector<uint8_t>> RawSocket::Receive(
    const std::function<bool(std::span<const uint8_t>)>& match, size_t want, Duration timeout) {
  std::vector<std::vector<uint8_t>> frames;
  const Instant deadline = MonotonicNow() + timeout;
  std::vector<uint8_t> buf(65536);
  // Bounded: each pass either takes a frame or waits out the deadline.
  for (int pass = 0; pass < 100000 && frames.size() < want; ++pass) {
    const Duration left = deadline - MonotonicNow();
    if (left <= Duration::Zero()) break;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.millis()) + 1) <= 0) continue;
    sockaddr_ll from{};
    socklen_t from_length = sizeof from;
    const ssize_t n = recvfrom(fd_, buf.data(), buf.size(), 0,
                               reinterpret_cast<sockaddr*>(&from), &from_length);
    if (n <= 0 || from.sll_pkttype == PACKET_OUTGOING) continue;
    std::span<const uint8_t> frame(buf.data(), static_cast<size_t>(n));
    if (match(frame)) frames.emplace_back(frame.begin(), frame.end());
  }
  return frames;
}

std::vector<Packet*> ReceiveMatching(Link& link, uint16_t queue,
                                     const std::function<bool(const Packet&)>& match,
                                     size_t want, Duration timeout) {
  std::vector<Packet*> matched;
  const Instant deadline = MonotonicNow() + timeout;
  Packet* got[kMaxBurst];
  while (matched.size() < want && MonotonicNow() < deadline) {
    const uint16_t n = link.Receive(queue, got, kMaxBurst);
    for (uint16_t i = 0; i < n; ++i) {
      if (matched.size() < want && match(*got[i])) {
        matched.push_back(got[i]);
      } else {
        FreePacket(got[i]);
      }
    }
    if (n == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return matched;
}

bool TransmitOne(Link& link, uint16_t queue, Packet* packet) {
  const Instant deadline = MonotonicNow() + Duration::Seconds(2);
  while (MonotonicNow() < deadline) {
    if (link.Transmit(queue, &packet, 1) == 1) return true;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  FreePacket(packet);
  return false;
}

}  // namespace locus::link::testing
