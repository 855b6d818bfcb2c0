// Hostile GGUF files: every defect must become a prima::Error naming the problem — never a crash, a hang,
// a huge allocation, or any other exception type.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "core/bytes.h"
#include "gguf/gguf.h"
#include "gguf/writer.h"

using namespace prima;

namespace {

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Parses; returns the error message ("" when the bytes parsed). Any exception other than prima::Error fails.
std::string parse_error(const std::vector<uint8_t>& b) {
  try {
    (void)gguf::File::parse(b, "bad.gguf");
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

std::vector<uint8_t> small_model() {
  gguf::Writer w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", 1);
  w.set_string_array("tokenizer.ggml.tokens", {"a", "b", "c"});
  w.add_tensor("token_embd.weight", ggml_type::Q8_0, {32, 3});
  w.add_tensor("output_norm.weight", ggml_type::F32, {32});
  return w.to_bytes([](size_t, uint64_t, std::span<uint8_t> out) { std::memset(out.data(), 0, out.size()); });
}

void expect_error(const std::vector<uint8_t>& b, const std::string& needle) {
  const auto msg = parse_error(b);
  EXPECT_NE(msg, "") << "expected an error containing '" << needle << "'";
  EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  EXPECT_NE(msg.find("bad.gguf"), std::string::npos) << "message must name the file: " << msg;
}

}  // namespace

TEST(GgufCorrupt, TruncatedAtEveryHeaderOffsetAndAcrossTheData) {
  const auto full = read_file(std::string(PRIMA_FIXTURES_DIR) + "/models/stories260K-Q8_0.gguf");
  ASSERT_GT(full.size(), 100000u);
  const auto f = gguf::File::parse(full, "ok");
  size_t n = 0;
  for (size_t cut = 0; cut < full.size(); cut += (cut < f.data_offset() + 64 ? 1 : 977)) {
    std::vector<uint8_t> b(full.begin(), full.begin() + static_cast<long>(cut));
    EXPECT_NE(parse_error(b), "") << "truncated at " << cut << " parsed";
    ++n;
  }
  EXPECT_GT(n, 1000u);
}

TEST(GgufCorrupt, FlippedHeaderBytesNeverCrash) {
  const auto full = read_file(std::string(PRIMA_FIXTURES_DIR) + "/models/stories260K-F32.gguf");
  const auto f = gguf::File::parse(full, "ok");
  std::vector<uint8_t> b = full;
  for (size_t i = 0; i < f.data_offset(); ++i) {
    for (uint8_t mask : {0xffu, 0x80u, 0x01u}) {
      b[i] ^= mask;
      (void)parse_error(b);  // either parses (a flipped character in a string) or throws prima::Error
      b[i] ^= mask;
    }
  }
}

TEST(GgufCorrupt, BadMagicAndVersions) {
  auto b = small_model();
  auto m = b;
  m[0] = 'X';
  expect_error(m, "bad magic");
  auto v = b;
  v[4] = 1;
  expect_error(v, "version 1 is obsolete");
  v[4] = 9;
  expect_error(v, "unknown GGUF version 9");
  v[4] = 0; v[7] = 3;  // 3 byte-swapped
  expect_error(v, "big-endian");
  expect_error({}, "only 0 bytes");
}

TEST(GgufCorrupt, AbsurdCounts) {
  auto b = small_model();
  auto t = b;
  const uint64_t huge = ~0ull;
  std::memcpy(t.data() + 8, &huge, 8);
  expect_error(t, "tensor count");
  auto k = b;
  std::memcpy(k.data() + 16, &huge, 8);
  expect_error(k, "key-value count");
  // The first key's length field claims 2^62 bytes.
  auto s = b;
  const uint64_t big = 1ull << 62;
  std::memcpy(s.data() + 24, &big, 8);
  expect_error(s, "truncated");
}

TEST(GgufCorrupt, ArrayLengthBeyondFile) {
  gguf::Writer w;
  ByteWriter p;
  p.write<uint32_t>(4);         // u32 elements
  p.write<uint64_t>(1ull << 60);  // absurd count
  w.set_raw("x.arr", 9, p.take());
  expect_error(w.to_bytes({}), "array length");
}

TEST(GgufCorrupt, UnknownValueTypeAndBadBool) {
  gguf::Writer w;
  w.set_raw("x.bad", 77, {0, 0, 0, 0});
  expect_error(w.to_bytes({}), "unknown value type 77");
  gguf::Writer w2;
  w2.set_raw("x.bool", 7, {5});
  expect_error(w2.to_bytes({}), "neither 0 nor 1");
}

TEST(GgufCorrupt, DeeplyNestedArrays) {
  ByteWriter p;
  for (int d = 0; d < 20; ++d) {
    p.write<uint32_t>(9);
    p.write<uint64_t>(1);
  }
  p.write<uint32_t>(4);
  p.write<uint64_t>(0);
  gguf::Writer w;
  w.set_raw("x.nested", 9, p.take());
  expect_error(w.to_bytes({}), "nested deeper");
}

TEST(GgufCorrupt, DuplicateKeysAndTensors) {
  gguf::Writer w;
  w.set_u32("a", 1);
  w.set_raw("b", 4, {1, 0, 0, 0});
  auto bytes = w.to_bytes({});
  // Rename "b" to "a": the key string is the last 1 byte before its type field.
  for (size_t i = 0; i + 1 < bytes.size(); ++i)
    if (bytes[i] == 'b' && bytes[i - 1] == 0) bytes[i] = 'a';
  expect_error(bytes, "duplicate metadata key 'a'");

  gguf::Writer t;
  t.add_tensor("x", ggml_type::F32, {8});
  t.add_tensor("y", ggml_type::F32, {8});
  auto tb = t.to_bytes([](size_t, uint64_t, std::span<uint8_t>) {});
  for (size_t i = 0; i < tb.size(); ++i)
    if (tb[i] == 'y') { tb[i] = 'x'; break; }
  expect_error(tb, "duplicate tensor name 'x'");
}

TEST(GgufCorrupt, TensorDefects) {
  auto make = [](ggml_type type, std::vector<int64_t> ne) {
    gguf::Writer w;
    w.add_tensor("w", type, std::move(ne));
    return w;
  };
  // Unknown type id: patch the type field of the only tensor (u32 after the dims).
  {
    auto w = make(ggml_type::F32, {8});
    auto b = w.to_bytes([](size_t, uint64_t, std::span<uint8_t>) {});
    // header: 24 bytes; tensor info: name(8+1) n_dims(4) ne(8) type(4) offset(8)
    const size_t type_at = 24 + 9 + 4 + 8;
    b[type_at] = 200;
    expect_error(b, "unknown tensor type id 200");
    b[type_at] = static_cast<uint8_t>(ggml_type::Q4_0);  // row of 8 is not a multiple of 32
    expect_error(b, "not a multiple");
    b[type_at] = 0;
    const size_t ndims_at = 24 + 9;
    b[ndims_at] = 5;
    expect_error(b, "n_dims 5");
    b[ndims_at] = 1;
    const uint64_t zero = 0;
    std::memcpy(b.data() + ndims_at + 4, &zero, 8);
    expect_error(b, "invalid size 0");
    const uint64_t big = 1ull << 40;
    std::memcpy(b.data() + ndims_at + 4, &big, 8);
    expect_error(b, "outside the file");
    const uint64_t eight = 8;
    std::memcpy(b.data() + ndims_at + 4, &eight, 8);
    const uint64_t off = 3;
    std::memcpy(b.data() + ndims_at + 4 + 8 + 4, &off, 8);
    expect_error(b, "not a multiple of the alignment");
  }
  // Element count overflow across dims.
  {
    auto w = make(ggml_type::F32, {8, 1, 1});
    auto b = w.to_bytes({});
    const uint64_t big = 1ull << 31;
    for (int d = 0; d < 3; ++d) std::memcpy(b.data() + 24 + 9 + 4 + 8 * d, &big, 8);
    expect_error(b, "overflows");
  }
}

TEST(GgufCorrupt, BadAlignment) {
  gguf::Writer w;
  w.set_u32("general.alignment", 3);
  expect_error(w.to_bytes({}), "general.alignment 3");
  gguf::Writer w2;
  w2.set_string("general.alignment", "x");
  expect_error(w2.to_bytes({}), "general.alignment' is string");
}

TEST(GgufCorrupt, CliRejectsWithNonZeroExit) {
  auto b = small_model();
  b.resize(b.size() - 10);
  const std::string path = ::testing::TempDir() + "/truncated.gguf";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<long>(b.size()));
  const std::string cmd = std::string(PRIMA_BINARY) + " info -m " + path + " >/dev/null 2>&1";
  const int rc = std::system(cmd.c_str());
  EXPECT_NE(rc, 0);
  EXPECT_EQ(std::system((std::string(PRIMA_BINARY) + " info -m /nonexistent.gguf >/dev/null 2>&1").c_str()) != 0, true);
}
