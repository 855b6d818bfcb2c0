// json_depth counts nesting outside strings (escaped quotes included) and stops once past its limit.
#include "core/json_depth.h"

#include <gtest/gtest.h>

#include <string>

using prima::json_depth;

TEST(JsonDepth, CountsBracketsOutsideStrings) {
  EXPECT_EQ(json_depth(R"({"a": "[[[[", "b": [{}]})"), 3);
  EXPECT_EQ(json_depth(R"({"a": "\"[[[[", "b": 1})"), 1);
  EXPECT_EQ(json_depth("1"), 0);
}

TEST(JsonDepth, StopsPastTheLimit) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(json_depth(deep), 100000);
  EXPECT_EQ(json_depth(deep, 32), 33);
}
