#include <gtest/gtest.h>
TEST(Matmul, Placeholder) {}
