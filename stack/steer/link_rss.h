// What a port reports about its RSS, in the form steering takes. Kept apart
// from flow_steering so that the pure steering code does not depend on the
// link layer.
#ifndef LOCUS_STACK_STEER_LINK_RSS_H_
#define LOCUS_STACK_STEER_LINK_RSS_H_

#include <optional>

#include "stack/link/link.h"
#include "stack/steer/flow_steering.h"

namespace locus::steer {

static_assert(link::kRssKeyLength == kRssKeyLength);

// The port's RSS when it has some we can predict; nullopt for ports that
// spread flows with a hash we do not know (net_tap, af_packet) or not at all.
inline std::optional<RssParams> NicRssFromLink(const link::LinkInfo& info) {
  if (!info.rss || info.reta.empty()) return std::nullopt;
  return RssParams{info.rss_key, info.reta};
}

}  // namespace locus::steer

#endif  // LOCUS_STACK_STEER_LINK_RSS_H_
