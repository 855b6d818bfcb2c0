// Hostile frames: every truncation, garbage, wrong magic, other versions, oversized lengths and absurd counts give
// a Status::Code::protocol naming the problem — never a crash, an exception or a huge allocation.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "cluster/protocol.h"
#include "core/bytes.h"
#include "samples.h"

using namespace prima;
using namespace prima::cluster;
using namespace prima::cluster::testing;

namespace {

std::vector<std::vector<uint8_t>> every_sample_frame() {
  std::vector<std::vector<uint8_t>> out;
  for (const Body& b : sample_bodies()) {
    Message m;
    m.seq = 5;
    m.body = b;
    out.push_back(encode(m));
  }
  for (auto dtype : {WireType::f32, WireType::f16}) {
    auto s = sample_activations(3, 8, dtype);
    Message m;
    m.body = s.a;
    out.push_back(encode(m));
  }
  return out;
}

void set_u16(std::vector<uint8_t>& b, size_t at, uint16_t v) { std::memcpy(b.data() + at, &v, 2); }
void set_u32(std::vector<uint8_t>& b, size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); }

// A frame with the given header fields around `payload`.
std::vector<uint8_t> frame(MsgType type, const std::vector<uint8_t>& payload, uint16_t major = kVersionMajor,
                           uint16_t minor = kVersionMinor) {
  ByteWriter w;
  w.write<uint32_t>(kMagic);
  w.write<uint16_t>(major);
  w.write<uint16_t>(minor);
  w.write<uint16_t>(static_cast<uint16_t>(type));
  w.write<uint16_t>(0);
  w.write<uint32_t>(static_cast<uint32_t>(payload.size()));
  w.write<uint64_t>(1);
  w.bytes(payload);
  return w.take();
}

std::string error_of(std::span<const uint8_t> b) {
  auto d = decode(b);
  if (d.is_ok()) return "";
  EXPECT_EQ(d.status().code(), Status::Code::protocol);
  EXPECT_FALSE(d.status().message().empty());
  return d.status().message();
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST(ProtocolHostile, EveryTruncationOfEveryMessageIsRejected) {
  for (const auto& full : every_sample_frame()) {
    const std::string type(msg_type_name(static_cast<MsgType>(full[8] | (full[9] << 8))));
    for (size_t n = 0; n < full.size(); ++n) {
      std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(n));
      EXPECT_NE(error_of(cut), "") << type << " cut to " << n;
      // The same cut with a header that agrees: the payload decoder itself must notice.
      if (n >= kHeaderSize) {
        set_u32(cut, 12, static_cast<uint32_t>(n - kHeaderSize));
        const std::string e = error_of(cut);
        EXPECT_NE(e, "") << type << " consistently cut to " << n;
      }
    }
  }
}

TEST(ProtocolHostile, TruncationErrorsSayWhat) {
  Message m;
  m.body = sample_hello();
  auto b = encode(m);
  b.resize(kHeaderSize + 20);
  EXPECT_TRUE(has(error_of(b), "truncated")) << error_of(b);
  set_u32(b, 12, 20);
  const std::string e = error_of(b);
  EXPECT_TRUE(has(e, "Hello message: truncated")) << e;
  EXPECT_TRUE(has(e, "device_name") || has(e, "software_version")) << e;
}

TEST(ProtocolHostile, WrongMagic) {
  Message m;
  m.body = Ack{1};
  auto b = encode(m);
  b[0] = 'G';
  EXPECT_TRUE(has(error_of(b), "not a prima message")) << error_of(b);
  const std::vector<uint8_t> http = {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P'};
  EXPECT_TRUE(has(error_of(http), "magic")) << error_of(http);
}

TEST(ProtocolHostile, OtherMajorVersionIsRefusedNamingBoth) {
  const auto b = frame(MsgType::ack, std::vector<uint8_t>(8, 0), 2, 3);
  const std::string e = error_of(b);
  EXPECT_TRUE(has(e, "protocol version 2.3 is not supported")) << e;
  EXPECT_TRUE(has(e, fmt::format("this build speaks version {}.{}", kVersionMajor, kVersionMinor))) << e;
}

TEST(ProtocolHostile, ErrorsFromAnyVersionAreReadable) {
  ByteWriter p;
  p.write<uint32_t>(2);
  p.write<uint64_t>(0);
  const std::string text = "protocol version 1.0 is not supported: this build speaks version 2.0";
  p.write<uint32_t>(static_cast<uint32_t>(text.size()));
  p.bytes(text.data(), text.size());
  p.write<uint32_t>(0xabcd);  // a field version 2 appended
  auto d = decode(frame(MsgType::error, p.take(), 2, 0));
  ASSERT_TRUE(d.is_ok()) << d.status().message();
  EXPECT_EQ(std::get<ErrorMsg>(d->body).text, text);
  EXPECT_EQ(std::get<ErrorMsg>(d->body).code, ErrorCode::version);
}

TEST(ProtocolHostile, TrailingBytesOnlyFromANewerMinor) {
  std::vector<uint8_t> payload(8, 0);
  payload.push_back(0x55);  // a field this build does not know
  EXPECT_TRUE(has(error_of(frame(MsgType::ack, payload)), "unexpected bytes"));
  auto d = decode(frame(MsgType::ack, payload, kVersionMajor, kVersionMinor + 1));
  ASSERT_TRUE(d.is_ok()) << d.status().message();
  EXPECT_EQ(d->minor, kVersionMinor + 1);
}

TEST(ProtocolHostile, UnknownType) {
  EXPECT_TRUE(has(error_of(frame(static_cast<MsgType>(200), {})), "unknown message type 200"));
  EXPECT_TRUE(has(error_of(frame(static_cast<MsgType>(0), {})), "unknown message type 0"));
}

TEST(ProtocolHostile, OversizedAndInconsistentLengths) {
  Message m;
  m.body = Ack{1};
  auto b = encode(m);
  set_u32(b, 12, kMaxPayload + 1);
  EXPECT_TRUE(has(error_of(b), "exceeds the limit")) << error_of(b);
  set_u32(b, 12, 0xffffffffu);
  EXPECT_TRUE(has(error_of(b), "exceeds the limit"));
  set_u32(b, 12, 9);
  EXPECT_TRUE(has(error_of(b), "truncated")) << error_of(b);
  set_u32(b, 12, 7);
  EXPECT_TRUE(has(error_of(b), "trailing garbage")) << error_of(b);
}

TEST(ProtocolHostile, OversizedStringsAndCounts) {
  // json claiming 4 GiB
  EXPECT_TRUE(has(error_of(frame(MsgType::profile_reply, {0xff, 0xff, 0xff, 0xff, '{'})), "limit"));
  // error text longer than allowed
  ByteWriter e;
  e.write<uint32_t>(1);
  e.write<uint64_t>(0);
  e.write<uint32_t>(static_cast<uint32_t>(kMaxText + 1));
  EXPECT_TRUE(has(error_of(frame(MsgType::error, e.take())), "limit"));
  // a Hello whose fact count promises more than the frame holds
  Message m;
  Hello h = sample_hello();
  h.facts.clear();
  m.body = h;
  auto b = encode(m);
  set_u16(b, b.size() - 2, 60000);
  EXPECT_TRUE(has(error_of(b), "facts")) << error_of(b);
  // a config claiming 1000 fields in 10 bytes, and one claiming more than the limit
  ByteWriter f;
  f.write<uint16_t>(1000);
  f.zeros(8);
  EXPECT_TRUE(has(error_of(frame(MsgType::config, f.take())), "1000 fields")) << error_of(frame(MsgType::config, f.take()));
  ByteWriter g;
  g.write<uint16_t>(60000);
  EXPECT_TRUE(has(error_of(frame(MsgType::config, g.take())), "exceed the limit"));
}

TEST(ProtocolHostile, ActivationShapesAreChecked) {
  auto build = [](uint32_t n_tokens, uint32_t n_embd, uint8_t dtype, size_t data_bytes) {
    ByteWriter p;
    p.write<uint64_t>(1);
    p.write<uint32_t>(0);
    p.write<uint16_t>(0);
    p.write<uint8_t>(dtype);
    p.write<uint8_t>(0);
    p.write<uint32_t>(n_tokens);
    p.write<uint32_t>(n_embd);
    p.zeros(data_bytes);
    return frame(MsgType::activations, p.take());
  };
  EXPECT_TRUE(has(error_of(build(0, 8, 0, 0)), "n_tokens = 0")) << error_of(build(0, 8, 0, 0));
  EXPECT_TRUE(has(error_of(build(1u << 31, 8, 0, 64)), "n_tokens")) << error_of(build(1u << 31, 8, 0, 64));
  EXPECT_TRUE(has(error_of(build(1, 1u << 30, 0, 64)), "n_embd"));
  EXPECT_TRUE(has(error_of(build(1, 8, 7, 64)), "unknown dtype 7"));
  // A shape promising 256 MiB in a few bytes is refused before anything is allocated.
  const std::string e = error_of(build(65536, 1024, 0, 100));
  EXPECT_TRUE(has(e, "payload is")) << e;
  // Right size, but an output flag that is not 0 or 1.
  auto s = sample_activations(2, 4, WireType::f32);
  Message m;
  m.body = s.a;
  auto b = encode(m);
  b[kHeaderSize + 24 + 16] = 2;  // output[0]
  EXPECT_TRUE(has(error_of(b), "output[0] = 2")) << error_of(b);
}

TEST(ProtocolHostile, ConfigRulesAreEnforced) {
  auto with = [](auto edit) {
    auto fields = config_to_fields(sample_config());
    edit(fields);
    ByteWriter w;
    write_fields(w, fields);
    return error_of(frame(MsgType::config, w.take()));
  };
  auto set = [](std::vector<Field>& f, const char* key, FieldValue v) {
    for (auto& x : f)
      if (x.key == key) x.value = std::move(v);
  };
  auto drop = [](std::vector<Field>& f, const char* key) {
    std::erase_if(f, [&](const Field& x) { return x.key == key; });
  };
  EXPECT_EQ(with([](auto&) {}), "");
  EXPECT_TRUE(has(with([&](auto& f) { f.push_back({"speculative.draft", FieldValue{uint64_t{1}}, true}); }),
                  "requires field 'speculative.draft'"));
  EXPECT_TRUE(has(with([&](auto& f) { drop(f, "n_ctx"); }), "required field 'n_ctx' is missing"));
  EXPECT_TRUE(has(with([&](auto& f) { set(f, "n_ctx", FieldValue{std::string("4096")}); }), "'n_ctx' has type string"));
  EXPECT_TRUE(has(with([&](auto& f) { set(f, "rank", FieldValue{uint64_t{3}}); }), "'rank' = 3 is outside"));
  EXPECT_TRUE(has(with([&](auto& f) { set(f, "ring.window", FieldValue{std::vector<uint64_t>{1, 2}}); }), "must match"));
  EXPECT_TRUE(has(with([&](auto& f) { set(f, "ring.window", FieldValue{std::vector<uint64_t>{1, 0, 2}}); }), "outside"));
  EXPECT_TRUE(has(with([&](auto& f) { set(f, "act_type", FieldValue{std::string("bf16")}); }), "expected f32 or f16"));
  EXPECT_TRUE(has(with([&](auto& f) { set(f, "n_ubatch", FieldValue{uint64_t{4096}}); }), "'n_ubatch' = 4096"));
  EXPECT_TRUE(has(with([&](auto& f) { f.push_back(f[0]); }), "appears twice"));
  EXPECT_TRUE(has(with([&](auto& f) { set(f, "next_hop", FieldValue{std::string()}); }), "'next_hop' is empty"));
  // A value of a type from a newer version: skipped when optional, refused when critical.
  ByteWriter w;
  write_fields(w, config_to_fields(sample_config()));
  auto p = w.take();
  set_u16(p, 0, static_cast<uint16_t>(p[0] + 1));
  for (uint8_t tb : {uint8_t{9}, uint8_t{9 | kFieldCritical}}) {
    std::vector<uint8_t> q = p;
    const std::string key = "zz.new";
    q.push_back(static_cast<uint8_t>(key.size()));
    q.insert(q.end(), key.begin(), key.end());
    q.push_back(tb);
    q.insert(q.end(), {3, 0, 0, 0, 1, 2, 3});
    auto d = decode(frame(MsgType::config, q));
    if (tb & kFieldCritical) {
      ASSERT_FALSE(d.is_ok());
      EXPECT_TRUE(has(d.status().message(), "zz.new"));
    } else {
      ASSERT_TRUE(d.is_ok()) << d.status().message();
      EXPECT_EQ(std::get<Config>(d->body).ignored_keys, std::vector<std::string>{"zz.new"});
    }
  }
}

TEST(ProtocolHostile, SmallMessageRules) {
  EXPECT_TRUE(has(error_of(frame(MsgType::heartbeat, std::vector<uint8_t>(24, 0))), "truncated"));
  std::vector<uint8_t> hb(25, 0);
  hb[24] = 2;
  EXPECT_TRUE(has(error_of(frame(MsgType::heartbeat, hb)), "is_reply = 2"));
  std::vector<uint8_t> kv = {9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_TRUE(has(error_of(frame(MsgType::kv_op, kv)), "unknown KV operation 9"));
  Message m;
  m.body = KvOp{KvOpKind::copy, -1, 2, 0, -1};
  EXPECT_TRUE(has(error_of(encode(m)), "copy needs a sequence"));
  m.body = KvOp{KvOpKind::remove, 0, 0, 10, 5};
  EXPECT_TRUE(has(error_of(encode(m)), "empty range"));
  Hello h = sample_hello();
  m.body = h;
  auto b = encode(m);
  b[kHeaderSize + 4] = 3;  // role
  EXPECT_TRUE(has(error_of(b), "role 3"));
}

TEST(ProtocolHostile, RandomGarbageNeverCrashes) {
  std::mt19937 rng(1234);
  const auto samples = every_sample_frame();
  size_t accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> b;
    if (i % 2 == 0) {
      b.resize(rng() % 200);
      for (auto& x : b) x = static_cast<uint8_t>(rng());
    } else {
      // A valid frame with a few bytes flipped (header included): the interesting neighbourhood.
      b = samples[rng() % samples.size()];
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k) b[rng() % b.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    }
    auto d = decode(b);
    if (d.is_ok()) {
      ++accepted;
      (void)encode(*d);  // what decodes must re-encode (no invariant broken)
    } else {
      EXPECT_EQ(d.status().code(), Status::Code::protocol);
    }
  }
  EXPECT_LT(accepted, 20000u);
}
