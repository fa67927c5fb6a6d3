#include "proxy/route/route_cache.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace locus::proxy::route {
namespace {

constexpr uint64_t kMul = 0x9e3779b97f4a7c15ULL;

inline uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v;
  h *= kMul;
  return h ^ (h >> 32);
}

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Folds ASCII upper case to lower in 8 bytes at once: adds 0x20 to every
// byte in 'A'..'Z'.
inline uint64_t Lower64(uint64_t v) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  const uint64_t heptets = v & (kOnes * 0x7f);
  const uint64_t ge_a = heptets + kOnes * (0x80 - 'A');
  const uint64_t gt_z = heptets + kOnes * (0x80 - 'Z' - 1);
  const uint64_t upper = ge_a & ~gt_z & ~v & (kOnes * 0x80);
  return v | (upper >> 2);
}

uint64_t HashBytes(uint64_t h, absl::string_view s, bool fold) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    const uint64_t v = Load64(s.data() + i);
    h = Mix(h, fold ? Lower64(v) : v);
  }
  uint64_t tail = 0;
  for (size_t k = 0; i + k < s.size(); ++k) {
    const char c = fold ? AsciiLower(s[i + k]) : s[i + k];
    tail |= uint64_t{static_cast<uint8_t>(c)} << (8 * k);
  }
  return Mix(h, tail ^ (uint64_t{s.size()} << 56));
}

size_t IndexSizeFor(size_t capacity) {
  size_t n = 1;
  while (n < 2 * capacity) n <<= 1;
  return n;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RouteCache>> RouteCache::Create(size_t capacity,
                                                               uint64_t seed) {
  if (capacity == 0 || capacity > kMaxRouteCacheCapacity) {
    return absl::InvalidArgumentError(absl::StrCat(
        "route cache capacity must be 1..", kMaxRouteCacheCapacity, ", not ",
        capacity));
  }
  return std::unique_ptr<RouteCache>(new RouteCache(capacity, seed));
}

RouteCache::RouteCache(size_t capacity, uint64_t seed)
    : seed_(seed),
      entries_(capacity),
      index_(IndexSizeFor(capacity), kNone),
      mask_(IndexSizeFor(capacity) - 1) {
  free_.reserve(capacity);
  for (size_t i = capacity; i-- > 0;) free_.push_back(static_cast<int32_t>(i));
}

uint64_t RouteCache::Hash(uint32_t listener, Method method,
                          absl::string_view host, absl::string_view path) const {
  uint64_t h = Mix(seed_, (uint64_t{listener} << 8) | static_cast<uint8_t>(method));
  h = HashBytes(h, host, /*fold=*/true);
  h = HashBytes(h, path, /*fold=*/false);
  return h ^ (h >> 29);
}

bool RouteCache::KeyEquals(const Entry& e, uint32_t listener, Method method,
                           absl::string_view host, absl::string_view path) const {
  return e.listener == listener && e.method == method &&
         e.host_len == host.size() && e.path_len == path.size() &&
         EqualsIgnoreCase(absl::string_view(e.key, e.host_len), host) &&
         (path.empty() ||
          std::memcmp(e.key + e.host_len, path.data(), path.size()) == 0);
}

size_t RouteCache::Probe(uint64_t hash, uint32_t listener, Method method,
                         absl::string_view host, absl::string_view path,
                         bool* found) const {
  // The index is at most half full, so an empty slot always ends the scan.
  for (size_t pos = hash & mask_;; pos = (pos + 1) & mask_) {
    const int32_t e = index_[pos];
    if (e == kNone) {
      *found = false;
      return pos;
    }
    if (entries_[e].hash == hash &&
        KeyEquals(entries_[e], listener, method, host, path)) {
      *found = true;
      return pos;
    }
  }
}

void RouteCache::EraseAt(size_t pos) {
  // Backward-shift deletion keeps every probe sequence unbroken without
  // tombstones.
  size_t hole = pos;
  for (size_t j = (pos + 1) & mask_; index_[j] != kNone; j = (j + 1) & mask_) {
    const size_t home = entries_[index_[j]].hash & mask_;
    // The entry at j may move into the hole only if its home is not
    // cyclically within (hole, j].
    const bool home_in_range =
        hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (home_in_range) continue;
    index_[hole] = index_[j];
    hole = j;
  }
  index_[hole] = kNone;
}

void RouteCache::Unlink(int32_t e) {
  Entry& x = entries_[e];
  if (x.prev != kNone) entries_[x.prev].next = x.next; else head_ = x.next;
  if (x.next != kNone) entries_[x.next].prev = x.prev; else tail_ = x.prev;
}

void RouteCache::PushFront(int32_t e) {
  Entry& x = entries_[e];
  x.prev = kNone;
  x.next = head_;
  if (head_ != kNone) entries_[head_].prev = e;
  head_ = e;
  if (tail_ == kNone) tail_ = e;
}

RouteLookup RouteCache::Result(const CompiledRouteTable& table, int32_t route,
                               bool from_cache) const {
  RouteLookup r;
  r.index = route;
  r.from_cache = from_cache;
  if (route != MatchResult::kNoRoute) r.route = &table.route(route);
  return r;
}

RouteLookup RouteCache::Lookup(uint32_t listener, const CompiledRouteTable& table,
                               const RouteRequest& request) {
  const absl::string_view host = StripPort(request.host);
  const absl::string_view path = RoutingPath(request.path);
  const Method method = request.method;
  if (host.size() + path.size() > kMaxCachedKeyBytes) {
    ++stats_.too_long;
    return Result(table, table.Match(request).route, false);
  }
  const uint64_t hash = Hash(listener, method, host, path);
  bool found = false;
  size_t pos = Probe(hash, listener, method, host, path, &found);
  if (found) {
    const int32_t e = index_[pos];
    if (entries_[e].version == table.version()) {
      ++stats_.hits;
      if (head_ != e) {
        Unlink(e);
        PushFront(e);
      }
      return Result(table, entries_[e].route, true);
    }
    ++stats_.stale;
    const MatchResult m = table.Match(request);
    if (m.cacheable) {
      entries_[e].version = table.version();
      entries_[e].route = m.route;
      Unlink(e);
      PushFront(e);
    } else {
      // The key now needs its headers looked at: drop the old entry.
      ++stats_.uncacheable;
      Unlink(e);
      EraseAt(pos);
      free_.push_back(e);
      --size_;
    }
    return Result(table, m.route, false);
  }
  ++stats_.misses;
  const MatchResult m = table.Match(request);
  if (!m.cacheable) {
    ++stats_.uncacheable;
    return Result(table, m.route, false);
  }
  if (free_.empty()) {
    // Evict the least recently used entry; its removal may shift the
    // index, so find the insertion slot again afterwards.
    const int32_t victim = tail_;
    const Entry& v = entries_[victim];
    bool victim_found = false;
    const size_t vpos =
        Probe(v.hash, v.listener, v.method, absl::string_view(v.key, v.host_len),
              absl::string_view(v.key + v.host_len, v.path_len), &victim_found);
    Unlink(victim);
    EraseAt(vpos);
    free_.push_back(victim);
    --size_;
    ++stats_.evictions;
    pos = Probe(hash, listener, method, host, path, &found);
  }
  const int32_t e = free_.back();
  free_.pop_back();
  Entry& x = entries_[e];
  x.hash = hash;
  x.version = table.version();
  x.route = m.route;
  x.listener = listener;
  x.method = method;
  x.host_len = static_cast<uint16_t>(host.size());
  x.path_len = static_cast<uint16_t>(path.size());
  for (size_t i = 0; i < host.size(); ++i) x.key[i] = AsciiLower(host[i]);
  if (!path.empty()) std::memcpy(x.key + host.size(), path.data(), path.size());
  index_[pos] = e;
  PushFront(e);
  ++size_;
  return Result(table, m.route, false);
}

}  // namespace locus::proxy::route
