// Session ticket keys (RFC 5077 tickets in TLS 1.2, PSK tickets in TLS 1.3)
// in nginx's ssl_session_ticket_key layout, so that every core (and every
// proxy of a fleet) encrypts and decrypts tickets with the same keys:
//   48 bytes: name[16] | HMAC-SHA256 key[16] | AES-128-CBC key[16]
//   80 bytes: name[16] | HMAC-SHA256 key[32] | AES-256-CBC key[32]
// The first key of a list encrypts new tickets; every key decrypts. The
// name travels in the clear at the start of each ticket and is not secret.
#ifndef LOCUS_PROXY_TLS_TICKET_KEYS_H_
#define LOCUS_PROXY_TLS_TICKET_KEYS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace locus::proxy::tls {

inline constexpr size_t kTicketKeyNameBytes = 16;
inline constexpr size_t kTicketKeyBytesAes128 = 48;
inline constexpr size_t kTicketKeyBytesAes256 = 80;
// One encrypting key plus older ones still accepted during rotation.
inline constexpr size_t kMaxTicketKeys = 8;

struct TicketKey {
  std::array<uint8_t, kTicketKeyNameBytes> name{};
  std::array<uint8_t, 32> hmac_key{};
  std::array<uint8_t, 32> aes_key{};
  size_t hmac_key_len = 0;  // 16 or 32
  bool aes256 = false;

  std::string NameHex() const;
  bool operator==(const TicketKey&) const = default;
};

// Parses one key of 48 or 80 bytes.
absl::StatusOr<TicketKey> ParseTicketKey(absl::string_view bytes);

// Parses a list: 1..kMaxTicketKeys keys with distinct names. The error
// names the index of the bad key, never its bytes.
absl::StatusOr<std::vector<TicketKey>> ParseTicketKeys(
    const std::vector<std::string>& keys);

// 80 random bytes from the OpenSSL DRBG, in the layout above.
std::string GenerateTicketKeyBytes();

}  // namespace locus::proxy::tls

#endif  // LOCUS_PROXY_TLS_TICKET_KEYS_H_
