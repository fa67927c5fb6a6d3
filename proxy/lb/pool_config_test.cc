#include "proxy/lb/pool_config.h"

#include <string>

#include "gtest/gtest.h"

namespace locus::proxy::lb {
namespace {

void ExpectInvalid(const absl::Status& s, const std::string& field) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find(field + ":"), absl::string_view::npos) << s;
}

EndpointConfig Ep(uint8_t last, uint16_t port = 80) {
  EndpointConfig e;
  e.ip = wire::Ipv4Address::FromOctets(10, 0, 0, last);
  e.port = port;
  return e;
}

BackendPoolConfig Pool(size_t n) {
  BackendPoolConfig p;
  p.name = "web";
  for (size_t i = 0; i < n; ++i) p.endpoints.push_back(Ep(1, 1000 + i));
  return p;
}

TEST(PoolConfigTest, Valid) {
  EXPECT_TRUE(ValidatePool(Pool(3), "pools[0]").ok());
  EXPECT_TRUE(ValidatePool(Pool(0), "pools[0]").ok());  // empty: 503s, legal
}

TEST(PoolConfigTest, NameRules) {
  BackendPoolConfig p = Pool(1);
  p.name = "";
  ExpectInvalid(ValidatePool(p, "pools[4]"), "pools[4].name");
  p.name = std::string(kMaxPoolNameLength, 'n');
  EXPECT_TRUE(ValidatePool(p).ok());
  p.name += "n";
  ExpectInvalid(ValidatePool(p), "name");
}

TEST(PoolConfigTest, EndpointCountLimit) {
  EXPECT_TRUE(ValidatePool(Pool(kMaxEndpointsPerPool)).ok());
  ExpectInvalid(ValidatePool(Pool(kMaxEndpointsPerPool + 1), "p"), "p.endpoints");
}

TEST(PoolConfigTest, EndpointFields) {
  BackendPoolConfig p = Pool(3);
  p.endpoints[2].weight = kMaxEndpointWeight;
  EXPECT_TRUE(ValidatePool(p).ok());
  p.endpoints[2].weight = kMaxEndpointWeight + 1;
  ExpectInvalid(ValidatePool(p, "p"), "p.endpoints[2].weight");
  p = Pool(3);
  p.endpoints[1].port = 0;
  ExpectInvalid(ValidatePool(p, "p"), "p.endpoints[1].port");
  p = Pool(3);
  p.endpoints[0].ip = wire::Ipv4Address::Any();
  ExpectInvalid(ValidatePool(p, "p"), "p.endpoints[0].ip");
  p = Pool(3);
  p.endpoints[2] = p.endpoints[0];
  ExpectInvalid(ValidatePool(p, "p"), "p.endpoints[2].ip");
  p.endpoints[2].port = 9;  // same ip, other port: fine
  EXPECT_TRUE(ValidatePool(p).ok());
}

TEST(PoolConfigTest, MaglevTableSize) {
  BackendPoolConfig p = Pool(3);
  p.lb_policy = LbPolicy::kMaglev;
  EXPECT_TRUE(ValidatePool(p).ok());
  p.maglev_table_size = 65536;
  ExpectInvalid(ValidatePool(p, "p"), "p.maglev_table_size");
  p.maglev_table_size = kMaxMaglevTableSize;
  EXPECT_TRUE(ValidatePool(p).ok());
  p.maglev_table_size = kMaxMaglevTableSize + 1;
  ExpectInvalid(ValidatePool(p, "p"), "p.maglev_table_size");
  p.maglev_table_size = 5000077;  // the next prime: rejected for its size
  ExpectInvalid(ValidatePool(p, "p"), "p.maglev_table_size");
  p.maglev_table_size = 3;  // prime but not larger than 3 endpoints
  ExpectInvalid(ValidatePool(p, "p"), "p.maglev_table_size");
  p.maglev_table_size = 5;
  EXPECT_TRUE(ValidatePool(p).ok());
  // Ignored by other policies.
  p.lb_policy = LbPolicy::kRandom;
  p.maglev_table_size = 4;
  EXPECT_TRUE(ValidatePool(p).ok());
}

TEST(PoolConfigTest, RingSize) {
  BackendPoolConfig p = Pool(3);
  p.lb_policy = LbPolicy::kRingHash;
  p.ring_hash_min_ring_size = kMaxRingSize;
  EXPECT_TRUE(ValidatePool(p).ok());
  p.ring_hash_min_ring_size = kMaxRingSize + 1;
  ExpectInvalid(ValidatePool(p, "p"), "p.ring_hash_min_ring_size");
  p.ring_hash_min_ring_size = 0;
  ExpectInvalid(ValidatePool(p, "p"), "p.ring_hash_min_ring_size");
}

TEST(PoolConfigTest, HashHeaderName) {
  BackendPoolConfig p = Pool(3);
  p.lb_policy = LbPolicy::kRingHash;
  p.hash_key.source = HashKeyConfig::Source::kHeader;
  ExpectInvalid(ValidatePool(p, "p"), "p.hash_key.header_name");
  p.hash_key.header_name = "x user";
  ExpectInvalid(ValidatePool(p, "p"), "p.hash_key.header_name");
  p.hash_key.header_name = "X-User-Id";
  EXPECT_TRUE(ValidatePool(p).ok());
}

TEST(PoolConfigTest, NestedHealthConfigsAreValidatedWithTheirPath) {
  BackendPoolConfig p = Pool(1);
  p.health_check.emplace();
  p.health_check->rise = 0;
  ExpectInvalid(ValidatePool(p, "pools[1]"), "pools[1].health_check.rise");
  p.health_check->rise = 1;
  p.outlier_detection.emplace();
  p.outlier_detection->max_ejection_percent = 200;
  ExpectInvalid(ValidatePool(p, "pools[1]"),
                "pools[1].outlier_detection.max_ejection_percent");
}

TEST(PoolConfigTest, IsPrime) {
  EXPECT_FALSE(IsPrime(0));
  EXPECT_FALSE(IsPrime(1));
  EXPECT_TRUE(IsPrime(2));
  EXPECT_TRUE(IsPrime(65537));
  EXPECT_FALSE(IsPrime(65535));
  EXPECT_TRUE(IsPrime(kMaxMaglevTableSize));
  EXPECT_TRUE(IsPrime(4294967291u));  // largest 32-bit prime: no overflow
}

}  // namespace
}  // namespace locus::proxy::lb
