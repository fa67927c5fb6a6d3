// PullCiphertext / PushCiphertext over a fake with tcp::Tcb's interface:
// a receive buffer handed out in small contiguous pieces and a send window
// that takes only part of a write, as a real TCP connection does.
#include "proxy/tls/transport.h"

#include <algorithm>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "proxy/tls/context_set.h"
#include "proxy/tls/server_connection.h"
#include "proxy/tls/test_peer.h"

namespace locus::proxy::tls {
namespace {

// One direction of a TCP connection: Write at one end, readable/Peek/
// Consume at the other.
class FakeTcb {
 public:
  static constexpr size_t kPeekPiece = 700;
  static constexpr size_t kWindow = 3000;

  // Reading end.
  size_t readable() const { return buf_.size(); }
  std::span<const uint8_t> Peek() const {
    return {reinterpret_cast<const uint8_t*>(buf_.data()),
            std::min(buf_.size(), kPeekPiece)};
  }
  void Consume(size_t n) { buf_.erase(0, n); }
  bool peer_closed() const { return fin_; }

  // Writing end.
  size_t Write(std::span<const uint8_t> data) {
    size_t n = std::min(data.size(), kWindow - std::min(kWindow, buf_.size()));
    buf_.append(reinterpret_cast<const char*>(data.data()), n);
    return n;
  }
  void Fin() { fin_ = true; }

 private:
  std::string buf_;
  bool fin_ = false;
};

// Moves everything it can both ways through the two fake connections.
void Exchange(TlsConnection& client, TlsConnection& server, FakeTcb& up,
              FakeTcb& down) {
  for (int i = 0; i < 1000; ++i) {
    client.Advance();
    server.Advance();
    size_t moved = PushCiphertext(client, up) + PullCiphertext(up, server) +
                   PushCiphertext(server, down) + PullCiphertext(down, client);
    if (moved == 0) break;
  }
}

class TransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_ = *TlsContextSet::Create(fixture_.settings);
    ctx_ = testing::MakeClientCtx();
    client_ = testing::RawClient::Create(ctx_.get(), "www.example.com");
    server_ = TlsServerConnection::Create(set_, set_->Find("web"), &counters_);
  }

  testing::SniFixture fixture_;
  std::shared_ptr<const TlsContextSet> set_;
  SslCtxPtr ctx_;
  std::unique_ptr<testing::RawClient> client_;
  std::unique_ptr<TlsServerConnection> server_;
  TlsCounters counters_;
  FakeTcb up_, down_;
};

TEST_F(TransportTest, HandshakeAndDataThroughSmallWindows) {
  Exchange(*client_, *server_, up_, down_);
  ASSERT_TRUE(server_->handshake_done());
  ASSERT_TRUE(client_->handshake_done());

  std::string data(40000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  std::string received;
  size_t written = 0;
  uint8_t buf[1500];
  for (int i = 0; i < 1000 && received.size() < data.size(); ++i) {
    written += client_->WritePlaintext(
        {reinterpret_cast<const uint8_t*>(data.data()) + written,
         data.size() - written});
    Exchange(*client_, *server_, up_, down_);
    while (size_t n = server_->ReadPlaintext(buf)) {
      received.append(reinterpret_cast<char*>(buf), n);
    }
  }
  EXPECT_EQ(received, data);
}

TEST_F(TransportTest, FinWithoutCloseNotifyIsTruncation) {
  Exchange(*client_, *server_, up_, down_);
  ASSERT_TRUE(server_->handshake_done());
  up_.Fin();
  PullCiphertext(up_, *server_);
  uint8_t buf[64];
  EXPECT_EQ(server_->ReadPlaintext(buf), 0u);
  EXPECT_TRUE(server_->truncated());
}

TEST_F(TransportTest, FinAfterCloseNotifyIsClean) {
  Exchange(*client_, *server_, up_, down_);
  client_->Shutdown();
  PushCiphertext(*client_, up_);
  up_.Fin();
  // EOF is reported only once the buffered bytes (the close_notify) are in.
  PullCiphertext(up_, *server_);
  uint8_t buf[64];
  EXPECT_EQ(server_->ReadPlaintext(buf), 0u);
  EXPECT_TRUE(server_->peer_closed());
  EXPECT_FALSE(server_->truncated());
  EXPECT_EQ(counters_.close_notify_received.load(), 1u);
}

}  // namespace
}  // namespace locus::proxy::tls
