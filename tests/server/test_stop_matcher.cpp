// StopMatcher: stop sequences never reach the client, not even in part, whatever the piece boundaries.
#include <gtest/gtest.h>

#include "server/stop_matcher.h"

using prima::server::StopMatcher;

namespace {

// Feeds text one piece at a time; returns everything released (and flush() when no match).
std::string feed(StopMatcher& m, const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& p : pieces) {
    out += m.push(p);
    if (m.matched()) return out;
  }
  return out + m.flush();
}

}  // namespace

TEST(StopMatcher, NoStopsPassesEverythingThrough) {
  StopMatcher m;
  EXPECT_EQ(m.push("hello"), "hello");
  EXPECT_EQ(m.push(" world"), " world");
  EXPECT_EQ(m.flush(), "");
  EXPECT_FALSE(m.matched());
}

TEST(StopMatcher, StopsBeforeTheSequence) {
  StopMatcher m({"END"});
  EXPECT_EQ(feed(m, {"one two END three"}), "one two ");
  EXPECT_TRUE(m.matched());
  EXPECT_EQ(m.matched_stop(), "END");
  EXPECT_EQ(m.push("more"), "");
  EXPECT_EQ(m.flush(), "");
}

TEST(StopMatcher, HoldsBackAPartialMatchAcrossPieces) {
  StopMatcher m({"END"});
  EXPECT_EQ(m.push("one E"), "one ");  // "E" may start "END"
  EXPECT_EQ(m.held(), 1u);
  EXPECT_EQ(m.push("N"), "");           // "EN" still may
  EXPECT_EQ(m.push("D!"), "");          // matched: nothing of it shown
  EXPECT_TRUE(m.matched());
}

TEST(StopMatcher, ReleasesAPartialMatchThatFails) {
  StopMatcher m({"END"});
  EXPECT_EQ(m.push("one EN"), "one ");
  EXPECT_EQ(m.push("x"), "ENx");
  EXPECT_FALSE(m.matched());
  EXPECT_EQ(m.push("E"), "");
  EXPECT_EQ(m.flush(), "E");  // generation ended: the held text was not a stop sequence
}

TEST(StopMatcher, EveryPieceSplitGivesTheSameResult) {
  const std::string text = "Tim said: stop, stop now. The end.";
  for (const std::vector<std::string>& stops :
       {std::vector<std::string>{"stop now"}, {"The end", "now"}, {"xyz"}, {"s", "said"}, {".", "stop,"}}) {
    StopMatcher whole(stops);
    const std::string expect = feed(whole, {text});
    for (size_t a = 0; a <= text.size(); ++a)
      for (size_t b = a; b <= text.size(); b += 3) {
        StopMatcher m(stops);
        EXPECT_EQ(feed(m, {text.substr(0, a), text.substr(a, b - a), text.substr(b)}), expect)
            << "split at " << a << ", " << b;
      }
  }
}

TEST(StopMatcher, EarliestMatchWinsThenTheLongest) {
  StopMatcher a({"b c", "a b"});
  EXPECT_EQ(feed(a, {"x a b c"}), "x ");
  EXPECT_EQ(a.matched_stop(), "a b");
  StopMatcher b({"ab", "abc"});
  EXPECT_EQ(feed(b, {"xxabcd"}), "xx");
  EXPECT_EQ(b.matched_stop(), "abc");
}

TEST(StopMatcher, EmptyStopStringsAreIgnored) {
  StopMatcher m({"", "Z"});
  EXPECT_EQ(feed(m, {"abc"}), "abc");
  EXPECT_FALSE(m.matched());
}

TEST(StopMatcher, OverlappingPrefixesKeepTheLongestCandidate) {
  StopMatcher m({"aab"});
  EXPECT_EQ(m.push("xa"), "x");
  EXPECT_EQ(m.push("a"), "");   // "aa" may start "aab"
  EXPECT_EQ(m.push("a"), "a");  // "aaa": the first a can no longer start it; "aa" can
  EXPECT_EQ(m.push("b"), "");
  EXPECT_TRUE(m.matched());
}

TEST(StopMatcher, MultiByteCharactersAreNeverSplit) {
  StopMatcher m({"é!"});  // 0xC3 0xA9 '!'
  std::string out = m.push("caf\xC3");
  out += m.push("\xA9");
  EXPECT_EQ(out, "caf");
  out += m.push(" ok");
  EXPECT_EQ(out, "caf\xC3\xA9 ok");
}
