#include "stack/engine/engine.h"

#include <csignal>

#include "absl/strings/str_cat.h"
#include "openssl/rand.h"
#include "stack/link/dpdk_eal.h"
#include "stack/link/dpdk_link.h"
#include "stack/link/pcap_link.h"
#include "stack/tcp_support/siphash.h"

namespace locus::engine {

namespace {

std::atomic<bool>* g_stop = nullptr;

void HandleSignal(int) {
  if (g_stop != nullptr) g_stop->store(true);
}

}  // namespace

void StopOnSignals(std::atomic<bool>* stop) {
  g_stop = stop;
  struct sigaction action = {};
  action.sa_handler = HandleSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
  std::vector<std::string> argv = {"locus", "-l", options.lcores, "-m",
                                   absl::StrCat(options.memory_mb)};
  if (!options.hugepages) argv.push_back("--no-huge");
  std::string port_name;
  if (!options.device.empty()) {
    argv.push_back("--no-pci");
    argv.push_back(absl::StrCat("--vdev=", options.device));
    port_name = options.device.substr(0, options.device.find(','));
  }
  argv.insert(argv.end(), options.extra_eal_args.begin(), options.extra_eal_args.end());
  absl::StatusOr<link::DpdkEal*> eal = link::DpdkEal::Init(argv);
  if (!eal.ok()) return eal.status();

  std::unique_ptr<Engine> engine(new Engine());
  unsigned shards = (*eal)->lcore_count();
  if (shards > 64) return absl::InvalidArgumentError("engine: at most 64 lcores");
  link::DpdkLinkConfig link_config;
  link_config.device = port_name;
  link_config.queues = static_cast<uint16_t>(shards);
  link_config.mbufs_per_queue = options.mbufs_per_queue;
  link_config.mtu = options.stack.interface.mtu;
  absl::StatusOr<std::unique_ptr<link::DpdkLink>> dpdk = link::DpdkLink::Create(link_config);
  if (!dpdk.ok()) return dpdk.status();
  engine->dpdk_ = std::move(*dpdk);
  engine->link_ = engine->dpdk_.get();

  if (options.faults.tx.active() || options.faults.rx.active()) {
    absl::StatusOr<std::unique_ptr<link::FaultInjectingLink>> faulty =
        link::FaultInjectingLink::Create(*engine->link_, options.faults,
                                         [] { return MonotonicNow(); });
    if (!faulty.ok()) return faulty.status();
    engine->faults_ = faulty->get();
    engine->faulty_ = std::move(*faulty);
    engine->link_ = engine->faulty_.get();
  }
  if (!options.pcap.empty()) {
    absl::StatusOr<std::unique_ptr<link::PcapLink>> pcap =
        link::PcapLink::Create(*engine->link_, options.pcap);
    if (!pcap.ok()) return pcap.status();
    engine->pcap_ = std::move(*pcap);
    engine->link_ = engine->pcap_.get();
  }

  absl::StatusOr<tcp::SecretKey> key = tcp::SecretKey::Generate();
  if (!key.ok()) return key.status();
  engine->secrets_ = std::make_unique<core::StackSecrets>(*key);
  ShardGroupOptions group_options;
  group_options.stack = options.stack;
  if (!group_options.stack.interface.mac.has_value() &&
      engine->link_->info().driver == "net_tap") {
    // net_tap gives the kernel side of the tap the port's MAC. Were the
    // stack to use it too, a Linux bridge holding the tap would keep every
    // frame for that MAC for itself (a port's own address is a local FDB
    // entry) and nothing would reach the stack. The tap delivers every
    // frame the kernel sends it, so any other unicast MAC works: flip a bit
    // of the last octet, keep it locally administered.
    std::array<uint8_t, 6> bytes = engine->link_->info().mac.bytes();
    bytes[0] = static_cast<uint8_t>((bytes[0] | 0x02) & ~0x01);
    bytes[5] ^= 0x01;
    group_options.stack.interface.mac = wire::MacAddress(bytes);
  }
  group_options.steering = options.steering;
  uint64_t seed = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof(seed)) != 1) {
    return absl::UnavailableError("engine: OpenSSL RAND_bytes failed");
  }
  group_options.port_seed = seed;
  absl::StatusOr<std::unique_ptr<ShardGroup>> group =
      ShardGroup::Create(*engine->link_, group_options, *engine->secrets_, MonotonicNow());
  if (!group.ok()) return group.status();
  engine->group_ = std::move(*group);
  return engine;
}

Engine::~Engine() {
  // Shards and stacks return their buffers before the port's pools go.
  group_.reset();
  pcap_.reset();
  faulty_.reset();
  dpdk_.reset();
}

absl::Status Engine::Run(const AppFactory& factory, std::atomic<bool>& stop) {
  link::DpdkEal* eal = link::DpdkEal::Get();
  if (eal == nullptr) return absl::FailedPreconditionError("engine: EAL is not initialised");
  return eal->RunOnLcores([&](unsigned index) {
    if (index >= group_->size()) return;
    std::unique_ptr<ShardApp> app = factory(index);
    if (index == 0) group_->stack(0).AnnounceAddress(MonotonicNow());
    group_->shard(index).Run(*app, stop);
  });
}

}  // namespace locus::engine
