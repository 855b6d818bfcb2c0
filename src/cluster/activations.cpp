// The hot path: hidden states written straight from the caller's f32 buffer into the outgoing frame (converted to
// f16 on the way when asked), and decoded as a view of the received frame.
#include <cstring>

#include "cluster/codec_internal.h"
#include "core/fp16.h"

namespace prima::cluster {

namespace detail {

namespace {

constexpr size_t kFixed = 24;  // step_id .. n_embd

size_t pad_for(size_t frame_offset_of_arrays_end) { return (8 - frame_offset_of_arrays_end % 8) % 8; }

size_t data_offset(uint32_t n_tokens, size_t frame_offset) {
  const size_t arrays_end = frame_offset + kFixed + size_t{n_tokens} * 9;
  return arrays_end + pad_for(arrays_end) - frame_offset;
}

}  // namespace

size_t activations_payload_size(const Activations& a) { return data_offset(a.n_tokens, kHeaderSize) + a.data_bytes(); }

void write_activations(const Activations& a, uint8_t* out, size_t frame_offset) {
  const size_t n = a.n_tokens;
  const size_t n_values = n * a.n_embd;
  PRIMA_ASSERT(a.n_tokens >= 1 && a.n_tokens <= kMaxTokens && a.n_embd >= 1 && a.n_embd <= kMaxEmbd);
  PRIMA_ASSERT(a.pos.size() == n && a.seq_id.size() == n && a.output.size() == n);
  PRIMA_ASSERT(a.values.empty() ? a.wire.size() == a.data_bytes() : a.values.size() == n_values);
  PRIMA_ASSERT(activations_payload_size(a) <= kMaxPayload);

  uint8_t* p = out;
  auto put = [&p](const auto& v) {
    std::memcpy(p, &v, sizeof(v));
    p += sizeof(v);
  };
  put(a.step_id);
  put(a.micro_batch);
  put(a.cycle);
  put(static_cast<uint8_t>(a.dtype));
  put(uint8_t{0});
  put(a.n_tokens);
  put(a.n_embd);
  std::memcpy(p, a.pos.data(), n * 4);
  p += n * 4;
  std::memcpy(p, a.seq_id.data(), n * 4);
  p += n * 4;
  std::memcpy(p, a.output.data(), n);
  p += n;
  const size_t off = data_offset(a.n_tokens, frame_offset);
  std::memset(p, 0, static_cast<size_t>(out + off - p));
  p = out + off;

  if (a.values.empty()) {
    std::memcpy(p, a.wire.data(), a.wire.size());
  } else if (a.dtype == WireType::f32) {
    std::memcpy(p, a.values.data(), n_values * 4);
  } else {
    for (size_t i = 0; i < n_values; ++i) {
      const fp16_t h = f32_to_fp16(a.values[i]);
      std::memcpy(p + 2 * i, &h, 2);
    }
  }
}

Activations read_activations(ByteReader& r) {
  const size_t start = r.offset();
  Activations a;
  a.step_id = r.read<uint64_t>("step_id");
  a.micro_batch = r.read<uint32_t>("micro_batch");
  a.cycle = r.read<uint16_t>("cycle");
  const uint8_t dtype = r.read<uint8_t>("dtype");
  (void)r.read<uint8_t>("flags");  // no flags defined in 1.0; bits a newer minor defines are ignored
  a.n_tokens = r.read<uint32_t>("n_tokens");
  a.n_embd = r.read<uint32_t>("n_embd");
  if (dtype > static_cast<uint8_t>(WireType::f16)) fail("{}: unknown dtype {} (0 = f32, 1 = f16)", r.what(), dtype);
  a.dtype = static_cast<WireType>(dtype);
  if (a.n_tokens < 1 || a.n_tokens > kMaxTokens) fail("{}: n_tokens = {} is outside [1, {}]", r.what(), a.n_tokens, kMaxTokens);
  if (a.n_embd < 1 || a.n_embd > kMaxEmbd) fail("{}: n_embd = {} is outside [1, {}]", r.what(), a.n_embd, kMaxEmbd);

  // The whole size is known from the shape: check it before reading (or allocating) anything per token.
  const size_t expect = data_offset(a.n_tokens, start) + a.data_bytes();
  const size_t have = r.size() - start;
  if (have != expect)
    fail("{}: payload is {} bytes but [{} x {}] {} with per-token fields needs {}", r.what(), have, a.n_tokens,
         a.n_embd, wire_type_name(a.dtype), expect);

  const size_t n = a.n_tokens;
  a.pos.resize(n);
  a.seq_id.resize(n);
  a.output.resize(n);
  std::memcpy(a.pos.data(), r.bytes(n * 4, "pos").data(), n * 4);
  std::memcpy(a.seq_id.data(), r.bytes(n * 4, "seq_id").data(), n * 4);
  std::memcpy(a.output.data(), r.bytes(n, "output").data(), n);
  for (size_t i = 0; i < n; ++i)
    if (a.output[i] > 1) fail("{}: output[{}] = {}, expected 0 or 1", r.what(), i, a.output[i]);
  r.seek(start + data_offset(a.n_tokens, start), "data");
  a.wire = r.bytes(a.data_bytes(), "data");
  return a;
}

}  // namespace detail

void Activations::to_f32(std::span<float> dst) const {
  const size_t n_values = size_t{n_tokens} * n_embd;
  PRIMA_ASSERT(dst.size() == n_values);
  if (!values.empty()) {
    PRIMA_ASSERT(values.size() == n_values);
    std::memcpy(dst.data(), values.data(), n_values * 4);
    return;
  }
  PRIMA_ASSERT(wire.size() == data_bytes());
  if (dtype == WireType::f32) {
    std::memcpy(dst.data(), wire.data(), n_values * 4);
    return;
  }
  const uint8_t* p = wire.data();
  for (size_t i = 0; i < n_values; ++i) {
    fp16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    dst[i] = fp16_to_f32(h);
  }
}

}  // namespace prima::cluster
