#include <gtest/gtest.h>

#include "core/bytes.h"

using namespace prima;

TEST(ByteReader, ReadsLittleEndianAndRefusesOverruns) {
  ByteWriter w;
  w.write<uint32_t>(0x11223344);
  w.write<uint16_t>(7);
  auto buf = w.take();
  ByteReader r(buf, "test");
  EXPECT_EQ(r.read<uint32_t>("a"), 0x11223344u);
  EXPECT_EQ(r.read<uint16_t>("b"), 7);
  EXPECT_EQ(r.remaining(), 0u);
  try {
    (void)r.read<uint8_t>("c");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("truncated: c"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)r.bytes(~0ull, "huge"), Error);
}
