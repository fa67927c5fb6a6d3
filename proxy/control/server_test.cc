#include "proxy/control/server.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proxy/control/fake_data_plane.h"
#include "proxy/control/grpc_test_util.h"
#include "proxy/control/service.h"

namespace locus::proxy::control {
namespace {

namespace v1 = api::v1;
using testing::Deadline;
using ::testing::HasSubstr;

constexpr char kTestData[] = "proxy/control/testdata/";

std::string TestFile(const char* name) { return absl::StrCat(kTestData, name); }

std::string ReadFile(const char* name) {
  std::ifstream in(TestFile(name));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ServerOptionsTest, LoopbackAddresses) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:7090"));
  EXPECT_TRUE(IsLoopbackAddress("127.1.2.3:0"));
  EXPECT_TRUE(IsLoopbackAddress("localhost:7090"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:7090"));
  EXPECT_TRUE(IsLoopbackAddress("unix:/run/locus/api.sock"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0:7090"));
  EXPECT_FALSE(IsLoopbackAddress("[::]:7090"));
  EXPECT_FALSE(IsLoopbackAddress("10.1.2.3:7090"));
  EXPECT_FALSE(IsLoopbackAddress("128.0.0.1:7090"));
  EXPECT_FALSE(IsLoopbackAddress("localhost.evil.com:7090"));
  EXPECT_FALSE(IsLoopbackAddress("127.0.0.1"));  // no port
}

TEST(ServerOptionsTest, NonLoopbackNeedsMtlsOrExplicitOverride) {
  ServerOptions options;
  EXPECT_TRUE(CheckServerOptions(options).ok());  // the default is loopback

  options.address = "0.0.0.0:7090";
  absl::Status status = CheckServerOptions(options);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(
      std::string(status.message()),
      HasSubstr("--api_address=0.0.0.0:7090 is not a loopback address"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("--api_insecure_ok"));

  // Server TLS alone is not enough: anyone could still connect.
  options.tls_cert_file = "cert.pem";
  options.tls_key_file = "key.pem";
  EXPECT_EQ(CheckServerOptions(options).code(),
            absl::StatusCode::kPermissionDenied);
  options.client_ca_file = "ca.pem";
  EXPECT_TRUE(CheckServerOptions(options).ok());

  ServerOptions insecure;
  insecure.address = "10.0.0.1:7090";
  insecure.insecure_ok = true;
  EXPECT_TRUE(CheckServerOptions(insecure).ok());
}

TEST(ServerOptionsTest, MalformedOptionsNameTheFlag) {
  ServerOptions options;
  options.address = "127.0.0.1";
  EXPECT_THAT(std::string(CheckServerOptions(options).message()),
              HasSubstr("--api_address=127.0.0.1: expected HOST:PORT"));
  options.address = "::1:7090";
  EXPECT_FALSE(CheckServerOptions(options).ok());

  options = ServerOptions();
  options.tls_cert_file = "cert.pem";
  EXPECT_THAT(std::string(CheckServerOptions(options).message()),
              HasSubstr("--api_tls_cert and --api_tls_key go together"));
  options = ServerOptions();
  options.client_ca_file = "ca.pem";
  EXPECT_THAT(std::string(CheckServerOptions(options).message()),
              HasSubstr("--api_client_ca needs --api_tls_cert"));
}

class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ControlPlane>> cp =
        ControlPlane::Create(ControlPlane::Options(), &dp_);
    ASSERT_TRUE(cp.ok());
    cp_ = *std::move(cp);
    service_ = std::make_unique<ControlPlaneService>(cp_.get());
    ServerOptions options;
    options.address = "127.0.0.1:0";
    options.tls_cert_file = TestFile("server.pem");
    options.tls_key_file = TestFile("server.key");
    options.client_ca_file = TestFile("ca.pem");
    absl::StatusOr<RunningServer> server =
        StartServer(options, {service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    // An IP target avoids the DNS resolver (c-ares leaks a few bytes under
    // LeakSanitizer); the certificate is checked for "localhost".
    target_ = absl::StrCat("127.0.0.1:", server_.port);
  }

  void TearDown() override {
    cp_->Shutdown();
    server_.server->Shutdown(Deadline(2));
  }

  grpc::Status CallStatus(std::shared_ptr<grpc::ChannelCredentials> creds) {
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    auto stub = v1::ControlPlane::NewStub(
        grpc::CreateCustomChannel(target_, creds, args));
    grpc::ClientContext context;
    context.set_deadline(Deadline(5));
    v1::StatusResponse response;
    return stub->Status(&context, v1::StatusRequest(), &response);
  }

  static std::shared_ptr<grpc::ChannelCredentials> Tls(const char* cert,
                                                       const char* key) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFile("ca.pem");
    if (cert != nullptr) {
      ssl.pem_cert_chain = ReadFile(cert);
      ssl.pem_private_key = ReadFile(key);
    }
    return grpc::SslCredentials(ssl);
  }

  FakeDataPlane dp_{1, true};
  std::unique_ptr<ControlPlane> cp_;
  std::unique_ptr<ControlPlaneService> service_;
  RunningServer server_;
  std::string target_;
};

TEST_F(TlsServerTest, ClientWithCertificateFromTheCaIsServed) {
  grpc::Status status = CallStatus(Tls("client.pem", "client.key"));
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(TlsServerTest, ClientWithoutCertificateIsRefused) {
  EXPECT_FALSE(CallStatus(Tls(nullptr, nullptr)).ok());
}

TEST_F(TlsServerTest, ClientWithCertificateFromAnotherCaIsRefused) {
  EXPECT_FALSE(CallStatus(Tls("rogue-client.pem", "rogue-client.key")).ok());
}

TEST_F(TlsServerTest, PlaintextClientIsRefused) {
  EXPECT_FALSE(CallStatus(grpc::InsecureChannelCredentials()).ok());
}

TEST(StartServerTest, MissingPemFileIsAClearError) {
  ServerOptions options;
  options.address = "127.0.0.1:0";
  options.tls_cert_file = TestFile("no-such.pem");
  options.tls_key_file = TestFile("server.key");
  absl::StatusOr<RunningServer> server = StartServer(options, {});
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(std::string(server.status().message()),
              HasSubstr("--api_tls_cert=proxy/control/testdata/no-such.pem: "
                        "cannot read the file"));
}

TEST(StartServerTest, RefusesNonLoopbackWithoutStarting) {
  ServerOptions options;
  options.address = "0.0.0.0:0";
  absl::StatusOr<RunningServer> server = StartServer(options, {});
  EXPECT_EQ(server.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(StartServerTest, ServesOnAUnixSocket) {
  char dir[] = "/tmp/locus-api-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string address = absl::StrCat("unix:", dir, "/api.sock");
  FakeDataPlane dp(1, true);
  auto cp = ControlPlane::Create(ControlPlane::Options(), &dp);
  ASSERT_TRUE(cp.ok());
  ControlPlaneService service(cp->get());
  ServerOptions options;
  options.address = address;
  absl::StatusOr<RunningServer> server = StartServer(options, {&service});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(server->port, 0);
  auto stub = v1::ControlPlane::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(Deadline(5));
  v1::StatusResponse response;
  EXPECT_TRUE(stub->Status(&context, v1::StatusRequest(), &response).ok());
  EXPECT_EQ(
      testing::HealthStatus(
          grpc::CreateChannel(address, grpc::InsecureChannelCredentials()), ""),
      1);
  (*cp)->Shutdown();
  server->server->Shutdown(Deadline(2));
  ::unlink(absl::StrCat(dir, "/api.sock").c_str());
  ::rmdir(dir);
}

}  // namespace
}  // namespace locus::proxy::control
