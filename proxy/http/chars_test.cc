#include "proxy/http/chars.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace locus::proxy::http::chars {
namespace {

std::vector<std::string> Split(std::string_view v) {
  std::vector<std::string> out;
  ListSplitter s(v);
  std::string_view e;
  while (s.Next(&e)) out.emplace_back(e);
  return out;
}

TEST(CharsTest, Tokens) {
  EXPECT_TRUE(IsToken("!#$%&'*+-.^_`|~09azAZ"));
  for (char c : std::string_view("\"(),/:;<=>?@[\\]{} \t\x7f\x80")) {
    EXPECT_FALSE(IsToken(std::string(1, c))) << static_cast<int>(c);
  }
  EXPECT_FALSE(IsToken(""));
}

TEST(CharsTest, FieldChars) {
  EXPECT_TRUE(All("a b\tc\x80\xff~", kFieldChar));
  for (int c = 0; c < 0x20; ++c) {
    if (c != '\t') {
      EXPECT_FALSE(Is(static_cast<char>(c), kFieldChar)) << c;
    }
  }
  EXPECT_FALSE(Is('\x7f', kFieldChar));
}

TEST(CharsTest, QuotedStrings) {
  EXPECT_EQ(QuotedStringLength("\"\""), 2u);
  EXPECT_EQ(QuotedStringLength("\"a\\\"b\" rest"), 6u);
  EXPECT_EQ(QuotedStringLength("\"open"), 0u);
  EXPECT_EQ(QuotedStringLength("\"a\\"), 0u);
  EXPECT_EQ(QuotedStringLength("\"a\x01\""), 0u);
  EXPECT_EQ(QuotedStringLength("noquote"), 0u);
}

TEST(CharsTest, ListSplitting) {
  EXPECT_EQ(Split("a, b ,c"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Split(" , a,,"), (std::vector<std::string>{"", "a", "", ""}));
  EXPECT_EQ(Split("x;q=\"a,b\", y"), (std::vector<std::string>{"x;q=\"a,b\"", "y"}));
  EXPECT_EQ(Split("x;q=\"a\\\",b\", y"), (std::vector<std::string>{"x;q=\"a\\\",b\"", "y"}));
  EXPECT_EQ(Split(""), (std::vector<std::string>{""}));
  EXPECT_EQ(Split("\"open, x"), (std::vector<std::string>{"\"open, x"}));
}

TEST(CharsTest, CaseInsensitiveCompare) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(EqualsIgnoreCase("a", "ab"));
  EXPECT_FALSE(EqualsIgnoreCase("[", "{"));  // only letters fold
}

}  // namespace
}  // namespace locus::proxy::http::chars
