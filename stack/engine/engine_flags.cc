// Command-line flags shared by every program that runs the engine (echod,
// proxyd). Documented in docs/operations.md.
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "stack/engine/engine.h"

ABSL_FLAG(std::string, device, "net_tap0,iface=locus0",
          "DPDK device arguments (--vdev syntax): net_tap0,iface=NAME or "
          "net_af_packet0,iface=IFACE. Empty: use the first port DPDK finds.");
ABSL_FLAG(std::string, lcores, "0", "DPDK lcores, one shard per lcore (e.g. 0 or 0-1)");
ABSL_FLAG(int, memory_mb, 512, "DPDK memory in MB");
ABSL_FLAG(bool, hugepages, false, "use hugepages (otherwise --no-huge)");
ABSL_FLAG(std::string, eal_args, "", "extra EAL arguments, space separated");
ABSL_FLAG(std::string, ip, "10.77.0.2/24", "the stack's IPv4 address and prefix length");
ABSL_FLAG(std::string, gateway, "", "default gateway (empty: connected subnet only)");
ABSL_FLAG(int, mtu, 1500, "interface MTU");
ABSL_FLAG(std::string, mac, "",
          "the stack's MAC address (default: the port's; on net_tap a variant of it)");
ABSL_FLAG(std::string, pcap, "", "write every frame sent and received to this pcap file");
ABSL_FLAG(double, fault_loss, 0, "drop this fraction of frames in each direction (testing)");
ABSL_FLAG(double, fault_duplicate, 0, "duplicate this fraction of frames (testing)");
ABSL_FLAG(double, fault_reorder, 0, "reorder this fraction of frames (testing)");
ABSL_FLAG(uint64_t, fault_seed, 1, "seed of the fault injection");
ABSL_FLAG(std::string, congestion, "cubic", "TCP congestion control: cubic or newreno");
ABSL_FLAG(std::string, steering, "auto",
          "how flows find their shard: auto, rss (the port's own RSS, checked in software) "
          "or port_hash (Fastsocket RFD: the local port names the shard)");
ABSL_FLAG(int, tcp_buffer_kb, 256, "TCP send and receive buffer per connection, KiB");

namespace locus::engine {

absl::StatusOr<EngineOptions> EngineOptionsFromFlags() {
  EngineOptions o;
  o.device = absl::GetFlag(FLAGS_device);
  o.lcores = absl::GetFlag(FLAGS_lcores);
  o.memory_mb = absl::GetFlag(FLAGS_memory_mb);
  if (o.memory_mb < 64) return absl::InvalidArgumentError("--memory_mb: at least 64");
  o.hugepages = absl::GetFlag(FLAGS_hugepages);
  for (absl::string_view arg :
       absl::StrSplit(absl::GetFlag(FLAGS_eal_args), ' ', absl::SkipEmpty())) {
    o.extra_eal_args.emplace_back(arg);
  }
  std::optional<wire::Ipv4Prefix> prefix = wire::Ipv4Prefix::Parse(absl::GetFlag(FLAGS_ip));
  if (!prefix.has_value() || prefix->length == 0 || prefix->length > 30) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--ip: want ADDRESS/PREFIX such as 10.77.0.2/24 (prefix 1..30), got '",
        absl::GetFlag(FLAGS_ip), "'"));
  }
  o.stack.interface.address = prefix->address;
  o.stack.interface.prefix_length = prefix->length;
  std::string gateway = absl::GetFlag(FLAGS_gateway);
  if (!gateway.empty()) {
    std::optional<wire::Ipv4Address> gw = wire::Ipv4Address::Parse(gateway);
    if (!gw.has_value() || !prefix->Contains(*gw)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--gateway: want an address inside ", prefix->ToString(), ", got '", gateway, "'"));
    }
    o.stack.interface.gateway = *gw;
  }
  int mtu = absl::GetFlag(FLAGS_mtu);
  if (mtu < 576 || mtu > 9000) return absl::InvalidArgumentError("--mtu: 576..9000");
  o.stack.interface.mtu = static_cast<uint16_t>(mtu);
  o.stack.tcp.mss = static_cast<uint16_t>(mtu - 40);
  std::string mac = absl::GetFlag(FLAGS_mac);
  if (!mac.empty()) {
    std::optional<wire::MacAddress> parsed = wire::MacAddress::Parse(mac);
    if (!parsed.has_value() || parsed->is_multicast() || parsed->is_zero()) {
      return absl::InvalidArgumentError("--mac: want a unicast MAC such as 02:00:00:00:00:01");
    }
    o.stack.interface.mac = *parsed;
  }
  o.pcap = absl::GetFlag(FLAGS_pcap);
  double loss = absl::GetFlag(FLAGS_fault_loss);
  double dup = absl::GetFlag(FLAGS_fault_duplicate);
  double reorder = absl::GetFlag(FLAGS_fault_reorder);
  for (double p : {loss, dup, reorder}) {
    if (p < 0 || p >= 1) return absl::InvalidArgumentError("--fault_*: a fraction in [0, 1)");
  }
  o.faults.seed = absl::GetFlag(FLAGS_fault_seed);
  for (link::FaultProfile* profile : {&o.faults.tx, &o.faults.rx}) {
    profile->loss = loss;
    profile->duplicate = dup;
    profile->reorder = reorder;
  }
  std::string cc = absl::GetFlag(FLAGS_congestion);
  if (cc == "cubic") {
    o.stack.tcp.congestion = tcp::CongestionAlgorithm::kCubic;
  } else if (cc == "newreno") {
    o.stack.tcp.congestion = tcp::CongestionAlgorithm::kNewReno;
  } else {
    return absl::InvalidArgumentError("--congestion: cubic or newreno");
  }
  std::string steering = absl::GetFlag(FLAGS_steering);
  if (steering == "auto") {
    o.steering = SteeringChoice::kAuto;
  } else if (steering == "rss") {
    o.steering = SteeringChoice::kRss;
  } else if (steering == "port_hash") {
    o.steering = SteeringChoice::kPortHash;
  } else {
    return absl::InvalidArgumentError("--steering: auto, rss or port_hash");
  }
  int buffer_kb = absl::GetFlag(FLAGS_tcp_buffer_kb);
  if (buffer_kb < 4 || buffer_kb > 16384) {
    return absl::InvalidArgumentError("--tcp_buffer_kb: 4..16384");
  }
  o.stack.tcp.send_buffer = static_cast<uint32_t>(buffer_kb) * 1024;
  o.stack.tcp.receive_buffer = static_cast<uint32_t>(buffer_kb) * 1024;
  return o;
}

}  // namespace locus::engine
