#include <string>

#include "ctl/diff.h"
#include "ctl/table.h"
#include "gtest/gtest.h"

namespace locus::ctl {
namespace {

TEST(TableTest, AlignsColumnsAndTrimsTrailingSpace) {
  Table t({"NAME", "PORT", "NOTE"});
  t.AddRow({"web", "80", ""});
  t.AddRow({"a-long-name", "8080", "x"});
  t.AddRow({"short"});  // missing cells are blank
  EXPECT_EQ(t.Render(),
            "NAME          PORT   NOTE\n"
            "web           80\n"
            "a-long-name   8080   x\n"
            "short\n");
}

TEST(DiffTest, EqualTextsHaveNoDiff) {
  EXPECT_EQ(UnifiedDiff("a\nb\n", "a\nb\n", "x", "y"), "");
}

TEST(DiffTest, ChangedLineShowsRemovalThenAddition) {
  EXPECT_EQ(UnifiedDiff("a\nb\nc\n", "a\nB\nc\nd\n", "old", "new"),
            "--- old\n+++ new\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n");
}

TEST(DiffTest, CreatedAndDeletedResources) {
  EXPECT_EQ(UnifiedDiff("", "a\n", "old", "new"),
            "--- old\n+++ new\n@@ -0,0 +1 @@\n+a\n");
  EXPECT_EQ(UnifiedDiff("a\nb\n", "", "old", "new"),
            "--- old\n+++ new\n@@ -1,2 +0,0 @@\n-a\n-b\n");
}

TEST(DiffTest, HugeInputsFallBackToReplaceAll) {
  std::string a, b;
  for (int i = 0; i < 2100; ++i) {
    a += "line " + std::to_string(i) + "\n";
    b += "line " + std::to_string(i + 1) + "\n";
  }
  // 2100 x 2100 > kMaxDiffCells: no common lines are searched for.
  std::string diff = UnifiedDiff(a, b, "old", "new");
  EXPECT_NE(diff.find("\n-line 1\n"), std::string::npos);
  EXPECT_NE(diff.find("\n+line 1\n"), std::string::npos);
  EXPECT_EQ(diff.find("\n line "), std::string::npos);
  // Just under the limit, common lines are kept.
  std::string c, d;
  for (int i = 0; i < 2000; ++i) {
    c += "line " + std::to_string(i) + "\n";
    d += "line " + std::to_string(i + 1) + "\n";
  }
  diff = UnifiedDiff(c, d, "old", "new");
  EXPECT_NE(diff.find("\n line 1\n"), std::string::npos);
  EXPECT_NE(diff.find("\n-line 0\n"), std::string::npos);
  EXPECT_NE(diff.find("\n+line 2000\n"), std::string::npos);
}

}  // namespace
}  // namespace locus::ctl
