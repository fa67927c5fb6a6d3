// A valid config that uses every kind of resource, for the control plane's
// tests to start from and break one field at a time.
#ifndef LOCUS_PROXY_CONTROL_TEST_CONFIGS_H_
#define LOCUS_PROXY_CONTROL_TEST_CONFIGS_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#include "api/codec.h"
#include "locus/api/v1/config.pb.h"

namespace locus::proxy::control::testing {

inline constexpr char kBaseConfigYaml[] = R"(
listeners:
  - name: web
    port: 80
    route_table: main
  - name: tcp-in
    address: 10.0.0.1
    port: 5432
    protocol: TCP
    pool: db
route_tables:
  - name: main
    routes:
      - name: api
        match:
          host: "*.example.com"
          prefix: /api
          methods: [GET, POST]
          headers: [{name: x-canary, exact: "1"}]
        action:
          weighted_pools: [{pool: api, weight: 90}, {pool: api-canary, weight: 10}]
          retry: {retry_on: [CONNECT_FAILURE, HTTP_5XX], num_retries: 2, per_try_timeout: 2s}
      - name: default
        action: {weighted_pools: [{pool: api}]}
pools:
  - name: api
    lb_policy: MAGLEV
    endpoints: [{address: 10.0.1.1, port: 8080}, {address: 10.0.1.2, port: 8080, weight: 2}]
    health_check: {http: {path: /healthz}}
    outlier_detection: {}
  - name: api-canary
    endpoints: [{address: 10.0.2.1, port: 8080}]
  - name: db
    lb_policy: LEAST_CONNECTIONS
    endpoints: [{address: 10.0.3.1, port: 5432}]
)";

// Parses YAML or JSON that the test knows is well-formed.
inline api::v1::Config ParseConfigOrDie(absl::string_view text) {
  api::v1::Config config;
  absl::Status status = api::ParseText(text, "test", &config);
  if (!status.ok()) {
    // Tests must not go on with a half-parsed config.
    std::fprintf(stderr, "test config does not parse: %s\n",
                 std::string(status.message()).c_str());
    std::abort();
  }
  return config;
}

inline api::v1::Config BaseConfig() {
  return ParseConfigOrDie(kBaseConfigYaml);
}

}  // namespace locus::proxy::control::testing

#endif  // LOCUS_PROXY_CONTROL_TEST_CONFIGS_H_
