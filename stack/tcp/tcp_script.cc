#include "stack/tcp/tcp_script.h"

#include <array>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace locus::tcp {

namespace {

SecretKey ScriptKey() {
  std::array<uint8_t, SecretKey::kSize> bytes{};
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 1);
  return SecretKey::FromBytes(bytes);
}

// Scripts start away from zero so that "old" timestamps and ages exist.
constexpr Instant kStart = Instant::FromNanos(int64_t{1000} * 1000000000);

}  // namespace

std::string FlagsToString(uint8_t flags) {
  std::string s;
  if (flags & kSyn) s += "S";
  if (flags & kFin) s += "F";
  if (flags & kRst) s += "R";
  if (flags & kPsh) s += "P";
  if (flags & kAck) s += ".";
  return s.empty() ? "-" : s;
}

std::string Sent::ToString() const {
  return absl::StrCat("[", FlagsToString(flags), " seq=", seq, " ack=", ack, " win=", window,
                      " len=", payload.size(), "]");
}

TcpConfig TcpScript::DefaultConfig() {
  TcpConfig config;
  config.congestion = CongestionAlgorithm::kCubic;
  return config;
}

TcpScript::TcpScript(TcpConfig config, TcpLayer::Limits limits)
    : pool_(16384),
      key_(ScriptKey()),
      isn_(key_),
      cookies_(key_),
      now_(kStart),
      wheel_(kStart) {
  layer_ = std::make_unique<TcpLayer>(config, pool_, *this, wheel_, isn_, cookies_, limits);
}

TcpScript::~TcpScript() {
  layer_.reset();
  sent_.clear();
}

void TcpScript::TransmitSegment(const FourTuple& tuple, link::Packet* packet) {
  std::span<const uint8_t> bytes = packet->bytes();
  // Check what we emit: the checksum seed must turn into a valid checksum.
  wire::InternetChecksum sum;
  sum.Add(bytes);
  std::vector<uint8_t> copy(bytes.begin(), bytes.end());
  wire::StoreBe16(copy.data() + 16, sum.Checksum());
  wire::ParseResult<wire::TcpHeader> h =
      wire::TcpHeader::Parse(copy, tuple.local_ip, tuple.remote_ip, wire::RxChecksum::kVerify);
  EXPECT_TRUE(h.ok()) << "we emitted an unparsable segment: "
                      << wire::WireErrorName(h.error());
  if (h.ok()) {
    Sent s;
    s.tuple = tuple;
    s.flags = h->flags.bits();
    s.seq = h->seq.raw();
    s.ack = h->ack.raw();
    s.window = h->window;
    s.options = h->options;
    s.payload.assign(reinterpret_cast<const char*>(copy.data() + h->length()),
                     copy.size() - h->length());
    s.at = now_;
    if (s.options.timestamps.has_value()) last_tsval_ = s.options.timestamps->value;
    sent_.push_back(std::move(s));
  }
  link::FreePacket(packet);
}

void TcpScript::Flush() {
  layer_->FlushOutput(now_);
  layer_->TakeEvents(events_);
}

void TcpScript::Advance(Duration d) {
  // Step through in 1 ms increments so that timers fire at their own time
  // and the segments they send carry the right timestamps.
  Instant end = now_ + d;
  while (now_ < end) {
    Duration step = std::min(Duration::Millis(1), end - now_);
    now_ += step;
    wheel_.Advance(now_);
    Flush();
  }
}

void TcpScript::Inject(const Inbound& in) {
  wire::TcpHeader h;
  h.source_port = in.source_port != 0 ? in.source_port : kPeerPort;
  h.destination_port = in.destination_port != 0 ? in.destination_port : kLocalPort;
  h.seq = wire::SeqNum(in.seq);
  h.ack = wire::SeqNum(in.ack);
  h.flags = wire::TcpFlags(in.flags);
  h.window = in.window;
  h.options = in.options;
  link::Packet* p = pool_.Allocate();
  ASSERT_NE(p, nullptr);
  size_t length = h.length() + in.payload.size();
  uint8_t* out = p->Append(static_cast<uint16_t>(length));
  ASSERT_NE(out, nullptr);
  std::memcpy(out + h.length(), in.payload.data(), in.payload.size());
  h.Emit(std::span<uint8_t>(out, length), kPeerIp, kLocalIp, wire::TxChecksum::kCompute);
  if (in.bad_checksum) out[16] ^= 0x5a;
  if (in.options.timestamps.has_value()) peer_tsval_ = in.options.timestamps->value;
  layer_->Input(kPeerIp, kLocalIp, p, /*checksum_ok=*/false, now_);
  Flush();
}

std::optional<Sent> TcpScript::Next() {
  if (sent_.empty()) return std::nullopt;
  Sent s = std::move(sent_.front());
  sent_.pop_front();
  return s;
}

Sent TcpScript::Expect(uint8_t flags) {
  std::optional<Sent> s = Next();
  if (!s.has_value()) {
    ADD_FAILURE() << "expected a segment with flags " << FlagsToString(flags) << ", got nothing";
    return Sent{};
  }
  EXPECT_EQ(FlagsToString(s->flags), FlagsToString(flags)) << "segment " << s->ToString();
  return *s;
}

void TcpScript::ExpectNothing() {
  while (std::optional<Sent> s = Next()) {
    ADD_FAILURE() << "expected no segment, got " << s->ToString();
  }
}

void TcpScript::Jump(Duration d) {
  now_ += d;
  wheel_.Advance(now_);
  Flush();
}

std::optional<Sent> TcpScript::AdvanceUntilSent(Duration limit) {
  Instant end = now_ + limit;
  while (sent_.empty() && now_ < end) Advance(Duration::Millis(1));
  return Next();
}

size_t TcpScript::Write(Tcb* tcb, std::string_view data) {
  size_t n = tcb->Write({reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  Flush();
  return n;
}

std::string TcpScript::ReadAll(Tcb* tcb) {
  std::string out;
  uint8_t buf[4096];
  while (size_t n = tcb->Read(buf)) out.append(reinterpret_cast<const char*>(buf), n);
  Flush();
  return out;
}

std::vector<EventRecord> TcpScript::TakeEvents() {
  layer_->TakeEvents(events_);
  std::vector<EventRecord> out;
  out.swap(events_);
  return out;
}

uint16_t TcpScript::EventsFor(const Tcb* tcb) {
  layer_->TakeEvents(events_);
  uint16_t mask = 0;
  std::vector<EventRecord> rest;
  for (const EventRecord& e : events_) {
    if (e.connection == tcb) {
      mask |= e.events;
    } else {
      rest.push_back(e);
    }
  }
  events_.swap(rest);
  return mask;
}

wire::TcpOptions TcpScript::SynOptions(bool timestamps, bool sack, int wscale, uint16_t mss,
                                       uint32_t tsval) const {
  wire::TcpOptions o;
  o.mss = mss;
  o.sack_permitted = sack;
  if (wscale >= 0) o.window_scale = static_cast<uint8_t>(wscale);
  if (timestamps) o.timestamps = wire::TcpTimestamps{tsval, 0};
  return o;
}

wire::TcpOptions TcpScript::Ts(uint32_t tsval) const {
  wire::TcpOptions o;
  o.timestamps = wire::TcpTimestamps{tsval, last_tsval_};
  return o;
}

Listener* TcpScript::Listen(uint16_t port) {
  absl::StatusOr<Listener*> l = layer_->Listen(kLocalIp, port);
  EXPECT_TRUE(l.ok()) << l.status();
  return l.ok() ? *l : nullptr;
}

Tcb* TcpScript::AcceptConnection(Listener* listener, uint32_t peer_isn,
                                 const wire::TcpOptions& syn_options, uint32_t* our_iss) {
  Inject({.flags = kSyn, .seq = peer_isn, .window = 64240, .options = syn_options});
  Sent synack = Expect(kSyn | kAck);
  EXPECT_EQ(synack.ack, peer_isn + 1);
  if (our_iss != nullptr) *our_iss = synack.seq;
  wire::TcpOptions ack_options;
  if (syn_options.timestamps.has_value() && synack.options.timestamps.has_value()) {
    ack_options.timestamps =
        wire::TcpTimestamps{syn_options.timestamps->value + 1, synack.options.timestamps->value};
  }
  Inject({.flags = kAck, .seq = peer_isn + 1, .ack = synack.seq + 1, .window = 502,
          .options = ack_options});
  Tcb* tcb = listener->Accept();
  EXPECT_NE(tcb, nullptr);
  return tcb;
}

Tcb* TcpScript::OpenPassive(uint32_t* our_iss, bool timestamps, bool sack, int wscale,
                            uint16_t mss) {
  Listener* l = Listen();
  if (l == nullptr) return nullptr;
  return AcceptConnection(l, kPeerIsn, SynOptions(timestamps, sack, wscale, mss), our_iss);
}

Tcb* TcpScript::ConnectConnection(uint32_t peer_isn, const wire::TcpOptions& synack_options,
                                  uint32_t* our_iss, uint16_t local_port) {
  absl::StatusOr<Tcb*> tcb = layer_->Connect(kLocalIp, kPeerIp, kPeerPort, now_, local_port);
  EXPECT_TRUE(tcb.ok()) << tcb.status();
  if (!tcb.ok()) return nullptr;
  Sent syn = Expect(kSyn);
  if (our_iss != nullptr) *our_iss = syn.seq;
  wire::TcpOptions o = synack_options;
  if (o.timestamps.has_value() && syn.options.timestamps.has_value()) {
    o.timestamps->echo_reply = syn.options.timestamps->value;
  }
  Inject({.flags = kSyn | kAck, .seq = peer_isn, .ack = syn.seq + 1, .window = 65160,
          .options = o, .source_port = kPeerPort, .destination_port = local_port});
  Expect(kAck);
  return *tcb;
}

}  // namespace locus::tcp
