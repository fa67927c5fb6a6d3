#include "proxy/tls/sni.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace locus::proxy::tls {
namespace {

// extension_data of server_name with the given (type, name) entries.
std::vector<uint8_t> Extension(
    const std::vector<std::pair<uint8_t, std::string>>& names) {
  std::vector<uint8_t> ext = {0, 0};  // list length, set below
  for (const auto& [type, name] : names) {
    ext.push_back(type);
    ext.push_back(static_cast<uint8_t>(name.size() >> 8));
    ext.push_back(static_cast<uint8_t>(name.size()));
    for (char c : name) ext.push_back(static_cast<uint8_t>(c));
  }
  const size_t list_len = ext.size() - 2;
  ext[0] = static_cast<uint8_t>(list_len >> 8);
  ext[1] = static_cast<uint8_t>(list_len);
  return ext;
}

TEST(ParseServerNameExtension, HostName) {
  std::vector<uint8_t> ext = Extension({{0, "www.example.com"}});
  ServerNameView v = ParseServerNameExtension(ext);
  EXPECT_EQ(v.status, ServerNameView::Status::kOk);
  EXPECT_EQ(v.host_name, "www.example.com");
}

TEST(ParseServerNameExtension, UnknownTypesSkipped) {
  std::vector<uint8_t> ext = Extension({{7, "xyz"}, {0, "a.test"}});
  ServerNameView v = ParseServerNameExtension(ext);
  EXPECT_EQ(v.status, ServerNameView::Status::kOk);
  EXPECT_EQ(v.host_name, "a.test");
  ServerNameView only = ParseServerNameExtension(Extension({{7, "xyz"}}));
  EXPECT_EQ(only.status, ServerNameView::Status::kOk);
  EXPECT_TRUE(only.host_name.empty());
}

TEST(ParseServerNameExtension, Malformed) {
  EXPECT_EQ(ParseServerNameExtension({}).status,
            ServerNameView::Status::kMalformed);
  EXPECT_EQ(ParseServerNameExtension(Extension({})).status,
            ServerNameView::Status::kMalformed);
  EXPECT_EQ(ParseServerNameExtension(Extension({{0, ""}})).status,
            ServerNameView::Status::kMalformed);
  EXPECT_EQ(
      ParseServerNameExtension(Extension({{0, "a.test"}, {0, "b.test"}})).status,
      ServerNameView::Status::kMalformed);
  // Every truncation of a good extension is refused, none read past it.
  std::vector<uint8_t> good = Extension({{0, "www.example.com"}});
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + n);
    EXPECT_EQ(ParseServerNameExtension(cut).status,
              ServerNameView::Status::kMalformed)
        << n;
  }
  // A list length that disagrees with the extension.
  good[1]++;
  EXPECT_EQ(ParseServerNameExtension(good).status,
            ServerNameView::Status::kMalformed);
}

std::string Normalize(absl::string_view raw, bool* ok) {
  char out[kMaxServerNameBytes];
  size_t len = 0;
  *ok = NormalizeServerName(raw, out, &len);
  return *ok ? std::string(out, len) : "";
}

TEST(NormalizeServerName, LowerCaseAndTrailingDot) {
  bool ok = false;
  EXPECT_EQ(Normalize("WWW.Example.COM.", &ok), "www.example.com");
  EXPECT_TRUE(ok);
  for (const char* bad : {"", ".", "a..b", ".a", "a_b.test", "10.0.0.1:443",
                          "::1", "a b"}) {
    Normalize(bad, &ok);
    EXPECT_FALSE(ok) << bad;
  }
  Normalize(std::string("a\0b", 3), &ok);
  EXPECT_FALSE(ok);
}

TEST(NormalizeServerName, Limits) {
  bool ok = false;
  Normalize(std::string(63, 'a') + ".test", &ok);
  EXPECT_TRUE(ok);
  Normalize(std::string(64, 'a') + ".test", &ok);
  EXPECT_FALSE(ok);
  // kMaxServerNameBytes characters pass, one more does not.
  std::string name;
  while (name.size() < kMaxServerNameBytes) name += "a.";
  name.resize(kMaxServerNameBytes);
  if (name.back() == '.') name.back() = 'a';
  Normalize(name, &ok);
  EXPECT_TRUE(ok);
  Normalize(name + "a", &ok);
  EXPECT_FALSE(ok);
  // The trailing dot does not count.
  Normalize(name + ".", &ok);
  EXPECT_TRUE(ok);
}

TEST(CertificateSelector, ExactThenWildcard) {
  CertificateSelector s;
  s.Add({"*.example.com"}, 0);
  s.Add({"www.example.com", "*.example.com"}, 1);
  s.Add({"other.test"}, 2);
  EXPECT_EQ(s.Select("www.example.com"), 1);
  EXPECT_EQ(s.Select("api.example.com"), 0) << "first added wins";
  EXPECT_EQ(s.Select("a.b.example.com"), -1);
  EXPECT_EQ(s.Select("example.com"), -1);
  EXPECT_EQ(s.Select("other.test"), 2);
  EXPECT_EQ(s.Select("x.other.test"), -1);
  EXPECT_EQ(s.Select(""), -1);
}

}  // namespace
}  // namespace locus::proxy::tls
