#include "stack/engine/shard_group.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "stack/steer/link_rss.h"

namespace locus::engine {

absl::StatusOr<std::unique_ptr<ShardGroup>> ShardGroup::Create(link::Link& link,
                                                               const ShardGroupOptions& options,
                                                               const core::StackSecrets& secrets,
                                                               Instant now) {
  const link::LinkInfo& info = link.info();
  uint16_t shards = info.rx_queues;
  if (shards == 0 || info.tx_queues < shards) {
    return absl::InvalidArgumentError(absl::StrCat("shards: the port has ", info.rx_queues,
                                                   " RX and ", info.tx_queues, " TX queues"));
  }
  std::unique_ptr<ShardGroup> group(new ShardGroup());
  std::optional<steer::RssParams> nic = steer::NicRssFromLink(info);
  steer::SteeringConfig config;
  config.num_cores = shards;
  switch (options.steering) {
    case SteeringChoice::kAuto:
      config.mode = steer::ChooseMode(shards, nic);
      break;
    case SteeringChoice::kRss:
      if (steer::ChooseMode(shards, nic) != steer::SteeringMode::kRss) {
        return absl::FailedPreconditionError(
            "steering=rss: the port does not report an RSS key and redirection table covering "
            "every shard (net_tap and af_packet never do); use steering=port_hash or auto");
      }
      config.mode = steer::SteeringMode::kRss;
      break;
    case SteeringChoice::kPortHash:
      config.mode = steer::SteeringMode::kPortHash;
      break;
  }
  config.nic_rss = nic;
  absl::StatusOr<steer::FlowSteering> steering = steer::FlowSteering::Create(config);
  if (!steering.ok()) return steering.status();
  group->steering_ = std::make_unique<steer::FlowSteering>(std::move(*steering));
  group->listeners_ = steer::ListenerPortSet::Create({});

  if (shards > 1) {
    absl::StatusOr<std::unique_ptr<RingMesh>> mesh = RingMesh::Create(shards, options.redirect_ring_size);
    if (!mesh.ok()) return mesh.status();
    group->mesh_ = std::move(*mesh);
  }
  for (uint16_t i = 0; i < shards; ++i) {
    group->stacks_.push_back(std::make_unique<core::Stack>(options.stack, link, i, secrets, now));
    steer::PortAllocatorOptions port_options;
    port_options.seed = options.port_seed;
    absl::StatusOr<steer::PortAllocator> allocator =
        steer::PortAllocator::Create(*group->steering_, i, port_options);
    if (!allocator.ok()) return allocator.status();
    if (group->steering_->mode() == steer::SteeringMode::kRss) allocator->PrepareAllClasses();
    group->ports_.push_back(
        std::make_unique<SteeredPorts>(std::move(*allocator), group->listeners_.get()));
    group->stacks_.back()->tcp().set_port_allocator(group->ports_.back().get());
    Dispatcher* dispatcher = nullptr;
    if (group->mesh_ != nullptr) {
      group->dispatchers_.push_back(
          std::make_unique<Dispatcher>(i, *group->steering_, *group->mesh_));
      dispatcher = group->dispatchers_.back().get();
      dispatcher->set_listeners(group->listeners_.get());
    }
    group->shards_.push_back(std::make_unique<Shard>(i, *group->stacks_.back(), dispatcher));
    group->shards_.back()->set_ports(group->ports_.back().get());
  }
  return group;
}

ShardGroup::~ShardGroup() {
  shards_.clear();
  dispatchers_.clear();
  // Stacks go before the rings so that nothing is enqueued after the
  // mesh returned its frames.
  stacks_.clear();
  ports_.clear();
  mesh_.reset();
}

void ShardGroup::SetListenerPorts(std::span<const uint16_t> ports) {
  listeners_ = steer::ListenerPortSet::Create(ports);
  for (auto& d : dispatchers_) d->set_listeners(listeners_.get());
  for (auto& p : ports_) p->set_listeners(listeners_.get());
}

void ShardGroup::RunThreads(const AppFactory& factory, std::atomic<bool>& stop) {
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < size(); ++i) {
    threads.emplace_back([this, i, &factory, &stop] {
      std::unique_ptr<ShardApp> app = factory(i);
      shards_[i]->Run(*app, stop);
    });
  }
  for (std::thread& t : threads) t.join();
}

}  // namespace locus::engine
