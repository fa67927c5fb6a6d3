// A per-core cache of route lookups, invalidated by version number — the
// "socket route cache with a version number" of DESIGN.md. Each entry
// records the version of the table it was filled from; it is used only
// while that equals the current table's version. A route change publishes
// a table with a new version, and every core's next lookup of any key sees
// the mismatch, counts it as stale and re-matches. Nobody is notified and
// nothing is flushed.
//
// Key: (listener, host without port, case-folded; method as enum; path
// before '?'). These are everything a route can look at except headers.
// Results that depend on headers — some route whose host, method and path
// matched had header conditions, whether they held or not — are never
// cached (MatchResult::cacheable), so a header-matching route is never
// served for a request whose headers were not checked. Routes listed
// before a header route, or those no header route could shadow, still
// cache.
//
// Versions must be unique across all tables a cache sees (the publisher's
// global counter guarantees it), so a listener switching to another table
// can never hit an entry of the old one.
//
// Bounded, exact LRU over `capacity` preallocated entries: an open-
// addressing index (linear probing, backward-shift deletion) and an
// intrusive recency list, both arrays of int32. Keys are stored inline in
// a fixed buffer and compared in full on a hit, so a hash collision cannot
// return another key's route. Lookup allocates nothing and hashes the
// request's string_views in place. A key longer than kMaxCachedKeyBytes is
// matched every time and counted as too_long.
//
// Single owner: one cache per core, not thread-safe by design.
#ifndef LOCUS_PROXY_ROUTE_ROUTE_CACHE_H_
#define LOCUS_PROXY_ROUTE_ROUTE_CACHE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "proxy/route/route_table.h"

namespace locus::proxy::route {

inline constexpr size_t kDefaultRouteCacheCapacity = 4096;
inline constexpr size_t kMaxRouteCacheCapacity = 1 << 20;
// Host (without port) plus path bytes that fit an entry.
inline constexpr size_t kMaxCachedKeyBytes = 256;

struct RouteCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;       // key not cached (includes first lookups)
  uint64_t stale = 0;        // key cached at an older version: re-matched
  uint64_t uncacheable = 0;  // result depended on headers: not stored
  uint64_t too_long = 0;     // key too long to store
  uint64_t evictions = 0;    // least recently used entry dropped for space
};

struct RouteLookup {
  // Null: no route matched (the proxy answers 404).
  const CompiledRoute* route = nullptr;
  int32_t index = MatchResult::kNoRoute;
  bool from_cache = false;
};

class RouteCache {
 public:
  // capacity in 1..kMaxRouteCacheCapacity. `seed` keys the hash so that
  // clients cannot aim collisions at the index; give each core its own.
  static absl::StatusOr<std::unique_ptr<RouteCache>> Create(size_t capacity,
                                                            uint64_t seed);

  RouteLookup Lookup(uint32_t listener, const CompiledRouteTable& table,
                     const RouteRequest& request);

  const RouteCacheStats& stats() const { return stats_; }
  size_t size() const { return size_; }
  size_t capacity() const { return entries_.size(); }

 private:
  static constexpr int32_t kNone = -1;

  struct Entry {
    uint64_t hash;
    uint64_t version;
    int32_t route;
    uint32_t listener;
    Method method;
    uint16_t host_len;
    uint16_t path_len;
    int32_t prev;  // towards most recent
    int32_t next;  // towards least recent
    char key[kMaxCachedKeyBytes];  // lower-cased host, then path
  };

  RouteCache(size_t capacity, uint64_t seed);

  uint64_t Hash(uint32_t listener, Method method, absl::string_view host,
                absl::string_view path) const;
  bool KeyEquals(const Entry& e, uint32_t listener, Method method,
                 absl::string_view host, absl::string_view path) const;
  // Index position holding the entry for this key, or of the empty slot
  // ending its probe sequence (then *found is false).
  size_t Probe(uint64_t hash, uint32_t listener, Method method,
               absl::string_view host, absl::string_view path,
               bool* found) const;
  void EraseAt(size_t pos);
  void Unlink(int32_t e);
  void PushFront(int32_t e);
  RouteLookup Result(const CompiledRouteTable& table, int32_t route,
                     bool from_cache) const;

  uint64_t seed_;
  std::vector<Entry> entries_;
  std::vector<int32_t> index_;  // power of two, >= 2 * capacity
  size_t mask_;
  size_t size_ = 0;
  int32_t head_ = kNone;  // most recent
  int32_t tail_ = kNone;  // least recent
  std::vector<int32_t> free_;
  RouteCacheStats stats_;
};

}  // namespace locus::proxy::route

#endif  // LOCUS_PROXY_ROUTE_ROUTE_CACHE_H_
