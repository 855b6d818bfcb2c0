// Codec round trips: every message type encodes and decodes back to itself, and re-encodes to the same bytes.
#include <gtest/gtest.h>

#include <cstring>

#include "cluster/protocol.h"
#include "core/fp16.h"
#include "samples.h"

using namespace prima;
using namespace prima::cluster;
using namespace prima::cluster::testing;

namespace {

// Equality for every body type except Activations (they hold views).
bool same_body(const Body& a, const Body& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Activations>) {
          return false;
        } else {
          return x == std::get<T>(b);
        }
      },
      a);
}

}  // namespace

TEST(Protocol, EveryControlMessageRoundTrips) {
  uint64_t seq = 1;
  for (const Body& body : sample_bodies()) {
    Message m;
    m.seq = seq++;
    m.body = body;
    const auto bytes = encode(m);
    EXPECT_EQ(bytes.size(), encoded_size(m));
    auto d = decode(bytes);
    ASSERT_TRUE(d.is_ok()) << msg_type_name(m.type()) << ": " << d.status().message();
    EXPECT_EQ(d->type(), m.type());
    EXPECT_EQ(d->seq, m.seq);
    EXPECT_EQ(d->minor, kVersionMinor);
    EXPECT_TRUE(same_body(d->body, m.body)) << msg_type_name(m.type());
    EXPECT_EQ(encode(*d), bytes) << msg_type_name(m.type());
    EXPECT_FALSE(describe(*d).empty());
  }
}

TEST(Protocol, HeaderLayoutIsAsDocumented) {
  Message m;
  m.seq = 0x0102030405060708ull;
  m.flags = 0x00a0;
  m.body = Ack{7};
  const auto b = encode(m);
  ASSERT_EQ(b.size(), kHeaderSize + 8);
  EXPECT_EQ(std::string(b.begin(), b.begin() + 4), "PRIM");
  EXPECT_EQ(b[4] | (b[5] << 8), kVersionMajor);
  EXPECT_EQ(b[6] | (b[7] << 8), kVersionMinor);
  EXPECT_EQ(b[8] | (b[9] << 8), static_cast<int>(MsgType::ack));
  EXPECT_EQ(b[10] | (b[11] << 8), 0x00a0);
  uint32_t len;
  std::memcpy(&len, b.data() + 12, 4);
  EXPECT_EQ(len, 8u);
  EXPECT_EQ(b[16], 0x08);
  EXPECT_EQ(b[23], 0x01);
  auto d = decode(b);
  ASSERT_TRUE(d.is_ok());
  EXPECT_EQ(d->flags, 0x00a0);
}

TEST(Protocol, ConfigKeepsEveryField) {
  Message m;
  m.body = sample_config();
  auto d = decode(encode(m));
  ASSERT_TRUE(d.is_ok()) << d.status().message();
  const auto& c = std::get<Config>(d->body);
  EXPECT_EQ(c, sample_config());
  EXPECT_EQ(c.world_size(), 3u);
  EXPECT_EQ(c.ring[2].address, "10.203.0.11:9100");
  EXPECT_EQ(c.act_type, WireType::f16);
  EXPECT_TRUE(c.ignored_keys.empty());
}

TEST(Protocol, ConfigIgnoresUnknownOptionalKeysAndReportsThem) {
  Config c = sample_config();
  c.extra.push_back({"future.speculative", FieldValue{uint64_t{4}}});
  c.extra.push_back({"future.names", FieldValue{std::vector<std::string>{"a", "b"}}});
  Message m;
  m.body = c;
  auto d = decode(encode(m));
  ASSERT_TRUE(d.is_ok()) << d.status().message();
  EXPECT_EQ(std::get<Config>(d->body).ignored_keys, (std::vector<std::string>{"future.speculative", "future.names"}));
}

TEST(Protocol, ConfigDefaultsApplyToMissingOptionalKeys) {
  // A minimal config as an older head might send it: only the required keys.
  std::vector<Field> f = {
      {"rank", FieldValue{uint64_t{0}}},
      {"world_size", FieldValue{uint64_t{1}}},
      {"ring.name", FieldValue{std::vector<std::string>{"head"}}},
      {"ring.address", FieldValue{std::vector<std::string>{"127.0.0.1:9000"}}},
      {"ring.window", FieldValue{std::vector<uint64_t>{32}}},
      {"k", FieldValue{uint64_t{1}}},
      {"next_hop", FieldValue{std::string("127.0.0.1:9000")}},
      {"n_ctx", FieldValue{uint64_t{512}}},
      {"n_batch", FieldValue{uint64_t{64}}},
      {"n_ubatch", FieldValue{uint64_t{64}}},
  };
  const Config c = config_from_fields(f);
  EXPECT_EQ(c.n_seq_max, 1u);
  EXPECT_EQ(c.kv_type, "f16");
  EXPECT_EQ(c.act_type, WireType::f32);
  EXPECT_EQ(c.n_threads, 0u);
  EXPECT_EQ(c.prefetch, "auto");
  EXPECT_EQ(c.mem_budget, 0u);
  EXPECT_EQ(c.epoch, 0u);
}

TEST(Protocol, ActivationsF32RoundTripAsAView) {
  auto s = sample_activations(5, 48, WireType::f32);
  Message m;
  m.seq = 9;
  m.body = s.a;
  const auto bytes = encode(m);
  EXPECT_EQ(bytes.size(), encoded_size(m));
  auto d = decode(bytes);
  ASSERT_TRUE(d.is_ok()) << d.status().message();
  const auto& a = std::get<Activations>(d->body);
  EXPECT_EQ(a.step_id, 77u);
  EXPECT_EQ(a.micro_batch, 2u);
  EXPECT_EQ(a.cycle, 1);
  EXPECT_EQ(a.n_tokens, 5u);
  EXPECT_EQ(a.n_embd, 48u);
  EXPECT_EQ(a.pos, s.a.pos);
  EXPECT_EQ(a.seq_id, s.a.seq_id);
  EXPECT_EQ(a.output, s.a.output);
  // A view into the frame, 8-byte aligned relative to its start, holding the raw little-endian floats.
  ASSERT_EQ(a.wire.size(), s.data.size() * 4);
  EXPECT_GE(a.wire.data(), bytes.data());
  EXPECT_LT(a.wire.data(), bytes.data() + bytes.size());
  EXPECT_EQ((a.wire.data() - bytes.data()) % 8, 0);
  EXPECT_EQ(std::memcmp(a.wire.data(), s.data.data(), a.wire.size()), 0);
  std::vector<float> out(s.data.size());
  a.to_f32(out);
  EXPECT_EQ(out, s.data);
  EXPECT_EQ(encode(*d), bytes);  // re-sending a received message as it is
}

TEST(Protocol, ActivationsF16ConvertOnTheWay) {
  auto s = sample_activations(3, 33, WireType::f16);
  s.data[0] = 1.0e-6f;  // below f16 precision: rounds
  s.data[1] = 70000.f;  // overflows f16: inf
  Message m;
  m.body = s.a;
  const auto bytes = encode(m);
  auto d = decode(bytes);
  ASSERT_TRUE(d.is_ok()) << d.status().message();
  const auto& a = std::get<Activations>(d->body);
  ASSERT_EQ(a.wire.size(), s.data.size() * 2);
  std::vector<float> out(s.data.size());
  a.to_f32(out);
  for (size_t i = 0; i < s.data.size(); ++i) EXPECT_EQ(out[i], fp16_to_f32(f32_to_fp16(s.data[i]))) << i;
  EXPECT_EQ(encode(*d), bytes);
}

TEST(Protocol, ActivationsDataIsAlignedForEveryTokenCount) {
  for (uint32_t n = 1; n <= 17; ++n) {
    auto s = sample_activations(n, 8, WireType::f32);
    Message m;
    m.body = s.a;
    const auto bytes = encode(m);
    auto d = decode(bytes);
    ASSERT_TRUE(d.is_ok()) << n << ": " << d.status().message();
    const auto& a = std::get<Activations>(d->body);
    EXPECT_EQ((a.wire.data() - bytes.data()) % 8, 0) << n;
    EXPECT_EQ(a.wire.data() + a.wire.size(), bytes.data() + bytes.size()) << n;
  }
}

TEST(Protocol, EncodeIntoACallerBuffer) {
  auto s = sample_activations(4, 16, WireType::f32);
  Message m;
  m.seq = 3;
  m.body = s.a;
  std::vector<uint8_t> buf(encoded_size(m));
  encode_into(m, buf);
  EXPECT_EQ(buf, encode(m));
  Message c;
  c.body = Stop{"x"};
  std::vector<uint8_t> buf2(encoded_size(c));
  encode_into(c, buf2);
  EXPECT_EQ(buf2, encode(c));
}
