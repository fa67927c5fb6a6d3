#include "proxy/tls/ticket_keys.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace locus::proxy::tls {
namespace {

std::string Bytes(size_t n, uint8_t first) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(first + i);
  return s;
}

TEST(TicketKeys, ParsesNginxLayouts) {
  auto k80 = ParseTicketKey(Bytes(80, 0));
  ASSERT_TRUE(k80.ok());
  EXPECT_TRUE(k80->aes256);
  EXPECT_EQ(k80->hmac_key_len, 32u);
  EXPECT_EQ(k80->name[0], 0);
  EXPECT_EQ(k80->hmac_key[0], 16);
  EXPECT_EQ(k80->aes_key[0], 48);
  EXPECT_EQ(k80->aes_key[31], 79);
  EXPECT_EQ(k80->NameHex(), "000102030405060708090a0b0c0d0e0f");

  auto k48 = ParseTicketKey(Bytes(48, 0));
  ASSERT_TRUE(k48.ok());
  EXPECT_FALSE(k48->aes256);
  EXPECT_EQ(k48->hmac_key_len, 16u);
  EXPECT_EQ(k48->hmac_key[0], 16);
  EXPECT_EQ(k48->aes_key[0], 32);
  EXPECT_EQ(k48->aes_key[15], 47);
}

TEST(TicketKeys, OtherSizesRefused) {
  for (size_t n : {0, 47, 49, 79, 81}) {
    SCOPED_TRACE(n);
    auto k = ParseTicketKey(Bytes(n, 0));
    ASSERT_FALSE(k.ok());
    EXPECT_TRUE(absl::StrContains(k.status().message(), "80 bytes"));
  }
}

TEST(TicketKeys, ListLimitAndDuplicates) {
  std::vector<std::string> keys;
  for (size_t i = 0; i < kMaxTicketKeys; ++i) keys.push_back(Bytes(80, i * 3));
  auto ok = ParseTicketKeys(keys);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->size(), kMaxTicketKeys);
  keys.push_back(Bytes(80, 200));
  EXPECT_FALSE(ParseTicketKeys(keys).ok());

  auto dup = ParseTicketKeys({Bytes(80, 0), Bytes(48, 0)});
  ASSERT_FALSE(dup.ok());
  EXPECT_TRUE(absl::StrContains(dup.status().message(), "key 1"));
  EXPECT_TRUE(absl::StrContains(dup.status().message(), "unique"));

  auto bad = ParseTicketKeys({Bytes(80, 0), Bytes(3, 0)});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "key 1: 3 bytes"));

  EXPECT_TRUE(ParseTicketKeys({}).ok());
}

TEST(TicketKeys, GeneratedKeysParseAndDiffer) {
  std::string a = GenerateTicketKeyBytes();
  std::string b = GenerateTicketKeyBytes();
  EXPECT_EQ(a.size(), kTicketKeyBytesAes256);
  EXPECT_NE(a, b);
  EXPECT_TRUE(ParseTicketKeys({a, b}).ok());
}

}  // namespace
}  // namespace locus::proxy::tls
