#include "proxy/tls/ticket_keys.h"

#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "proxy/tls/openssl_util.h"

namespace locus::proxy::tls {

std::string TicketKey::NameHex() const {
  return HexLower(name.data(), name.size());
}

absl::StatusOr<TicketKey> ParseTicketKey(absl::string_view bytes) {
  TicketKey key;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  if (bytes.size() == kTicketKeyBytesAes128) {
    key.hmac_key_len = 16;
    key.aes256 = false;
    std::memcpy(key.name.data(), p, 16);
    std::memcpy(key.hmac_key.data(), p + 16, 16);
    std::memcpy(key.aes_key.data(), p + 32, 16);
  } else if (bytes.size() == kTicketKeyBytesAes256) {
    key.hmac_key_len = 32;
    key.aes256 = true;
    std::memcpy(key.name.data(), p, 16);
    std::memcpy(key.hmac_key.data(), p + 16, 32);
    std::memcpy(key.aes_key.data(), p + 48, 32);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        bytes.size(), " bytes; a ticket key is ", kTicketKeyBytesAes256,
        " bytes (or ", kTicketKeyBytesAes128,
        "), e.g. from `openssl rand 80 | base64 -w0`"));
  }
  return key;
}

absl::StatusOr<std::vector<TicketKey>> ParseTicketKeys(
    const std::vector<std::string>& keys) {
  if (keys.size() > kMaxTicketKeys) {
    return absl::InvalidArgumentError(
        absl::StrCat(keys.size(), " keys; at most ", kMaxTicketKeys));
  }
  std::vector<TicketKey> out;
  std::set<std::string> names;
  for (size_t i = 0; i < keys.size(); ++i) {
    absl::StatusOr<TicketKey> key = ParseTicketKey(keys[i]);
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("key ", i, ": ", key.status().message()));
    }
    if (!names.insert(key->NameHex()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "key ", i, ": its name (first 16 bytes, ", key->NameHex(),
          ") is used by an earlier key; names must be unique"));
    }
    out.push_back(*key);
  }
  return out;
}

std::string GenerateTicketKeyBytes() {
  std::string bytes(kTicketKeyBytesAes256, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()),
                 static_cast<int>(bytes.size())) != 1) {
    // The DRBG failing is not recoverable: a predictable key would be
    // worse than no TLS at all.
    abort();
  }
  return bytes;
}

}  // namespace locus::proxy::tls
