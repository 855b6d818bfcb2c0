#include "model/kv_cache.h"

#include <algorithm>
#include <cstring>

namespace prima::model {

uint64_t KvCache::bytes_needed(const HParams& hp, int32_t n_layers, const KvConfig& cfg) {
  const uint64_t elem = cfg.type == ggml_type::F32 ? 4 : 2;
  return 2ull * static_cast<uint64_t>(n_layers) * static_cast<uint64_t>(cfg.n_seq) *
         static_cast<uint64_t>(cfg.n_ctx) * static_cast<uint64_t>(hp.n_embd_kv()) * elem;
}

KvCache::KvCache(const HParams& hp, int32_t il_begin, int32_t il_end, KvConfig cfg)
    : cfg_(cfg),
      il_begin_(il_begin),
      il_end_(il_end),
      n_head_kv_(hp.n_head_kv),
      n_embd_head_(hp.n_embd_head),
      elem_size_(cfg.type == ggml_type::F32 ? 4 : 2) {
  PRIMA_CHECK(cfg.type == ggml_type::F16 || cfg.type == ggml_type::F32, "KV cache type must be f16 or f32, not {}",
              type_name(cfg.type));
  PRIMA_CHECK(cfg.n_ctx > 0 && cfg.n_seq > 0, "KV cache needs n_ctx > 0 and n_seq > 0");
  PRIMA_CHECK(0 <= il_begin && il_begin <= il_end && il_end <= hp.n_layer, "bad KV window [{}, {})", il_begin, il_end);
  data_.resize(static_cast<size_t>(bytes_needed(hp, il_end - il_begin, cfg)));
  len_.assign(static_cast<size_t>(cfg.n_seq), 0);
}

size_t KvCache::offset(int32_t il, int32_t seq, int32_t kv_head, bool is_v) const {
  const size_t head = static_cast<size_t>(cfg_.n_ctx) * static_cast<size_t>(n_embd_head_) * elem_size_;
  const size_t slot = head * static_cast<size_t>(n_head_kv_);
  const size_t layer = slot * static_cast<size_t>(cfg_.n_seq) * 2;
  return static_cast<size_t>(il - il_begin_) * layer + (is_v ? slot * static_cast<size_t>(cfg_.n_seq) : 0) +
         static_cast<size_t>(seq) * slot + static_cast<size_t>(kv_head) * head;
}

void* KvCache::k(int32_t il, int32_t seq, int32_t h) { return data_.data() + offset(il, seq, h, false); }
void* KvCache::v(int32_t il, int32_t seq, int32_t h) { return data_.data() + offset(il, seq, h, true); }
const void* KvCache::k(int32_t il, int32_t seq, int32_t h) const { return data_.data() + offset(il, seq, h, false); }
const void* KvCache::v(int32_t il, int32_t seq, int32_t h) const { return data_.data() + offset(il, seq, h, true); }

void KvCache::clear() { std::fill(len_.begin(), len_.end(), 0); }
void KvCache::clear(int32_t seq) { len_[static_cast<size_t>(seq)] = 0; }
void KvCache::truncate(int32_t seq, int32_t n_keep) {
  auto& l = len_[static_cast<size_t>(seq)];
  l = std::min(l, std::max(0, n_keep));
}

void KvCache::copy(int32_t src, int32_t dst) {
  if (src == dst) return;
  const int32_t n = len_[static_cast<size_t>(src)];
  const size_t bytes = static_cast<size_t>(n) * static_cast<size_t>(n_embd_head_) * elem_size_;
  for (int32_t il = il_begin_; il < il_end_; ++il)
    for (int32_t h = 0; h < n_head_kv_; ++h) {
      std::memcpy(k(il, dst, h), k(il, src, h), bytes);
      std::memcpy(v(il, dst, h), v(il, src, h), bytes);
    }
  len_[static_cast<size_t>(dst)] = n;
}

Status KvCache::check(const int32_t* pos, const int32_t* seq, int32_t n_tokens) const {
  std::vector<int32_t> len = len_;
  return extend(len, pos, seq, n_tokens);
}

Status KvCache::admit(const int32_t* pos, const int32_t* seq, int32_t n_tokens) {
  std::vector<int32_t> len = len_;
  if (Status st = extend(len, pos, seq, n_tokens); !st) return st;
  len_ = std::move(len);
  return Status::ok();
}

Status KvCache::extend(std::vector<int32_t>& len, const int32_t* pos, const int32_t* seq, int32_t n_tokens) const {
  for (int32_t t = 0; t < n_tokens; ++t) {
    const int32_t s = seq[t], p = pos[t];
    if (s < 0 || s >= cfg_.n_seq)
      return Status::error(Status::Code::invalid, "token {}: sequence id {} is outside 0..{}", t, s, cfg_.n_seq - 1);
    if (p < 0 || p >= cfg_.n_ctx)
      return Status::error(Status::Code::invalid,
                           "context is full: position {} of sequence {} exceeds the context size {} (use -c to enlarge)",
                           p, s, cfg_.n_ctx);
    auto& l = len[static_cast<size_t>(s)];
    if (p > l)
      return Status::error(Status::Code::invalid, "token {}: position {} of sequence {} leaves a gap (length {})", t, p,
                           s, l);
    l = std::max(l, p + 1);
  }
  return Status::ok();
}

}  // namespace prima::model
