#include <gtest/gtest.h>
TEST(Vec, Placeholder) {}
