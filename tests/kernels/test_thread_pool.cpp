#include <gtest/gtest.h>
TEST(ThreadPool, Placeholder) {}
