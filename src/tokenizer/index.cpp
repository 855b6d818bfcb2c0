// Open-addressing hash tables of the vocab: token text -> id, (left id, right id) -> merge rank.
#include <cstring>

#include "tokenizer/vocab.h"

namespace prima::tokenizer {

uint64_t TextIndex::hash(std::string_view s) {  // FNV-1a, then mixed
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h ^ (h >> 29);
}

void TextIndex::build(const std::string& arena, const std::vector<uint32_t>& off) {
  arena_ = &arena;
  off_ = &off;
  const size_t n = off.size() - 1;
  size_t cap = 16;
  while (cap < n * 2) cap <<= 1;
  slots_.assign(cap, kNoToken);
  mask_ = cap - 1;
  for (size_t id = 0; id < n; ++id) {
    const std::string_view s(arena.data() + off[id], off[id + 1] - off[id]);
    uint64_t h = hash(s) & mask_;
    while (slots_[h] != kNoToken) h = (h + 1) & mask_;
    slots_[h] = static_cast<token_id>(id);
  }
}

token_id TextIndex::find(std::string_view s) const {
  if (slots_.empty()) return kNoToken;
  uint64_t h = hash(s) & mask_;
  while (true) {
    const token_id id = slots_[h];
    if (id == kNoToken) return kNoToken;
    const auto& off = *off_;
    if (off[id + 1] - off[id] == s.size() && std::memcmp(arena_->data() + off[id], s.data(), s.size()) == 0) return id;
    h = (h + 1) & mask_;
  }
}

void MergeIndex::reserve(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap <<= 1;
  keys_.assign(cap, 0);
  ranks_.assign(cap, -1);
  mask_ = cap - 1;
  n_ = 0;
}

static uint64_t mix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  return k;
}

void MergeIndex::insert(token_id l, token_id r, int32_t rank) {
  const uint64_t k = key(l, r);
  uint64_t h = mix64(k) & mask_;
  while (ranks_[h] != -1) {
    if (keys_[h] == k) return;
    h = (h + 1) & mask_;
  }
  keys_[h] = k;
  ranks_[h] = rank;
  ++n_;
}

int32_t MergeIndex::find(token_id l, token_id r) const {
  if (ranks_.empty()) return -1;
  const uint64_t k = key(l, r);
  uint64_t h = mix64(k) & mask_;
  while (ranks_[h] != -1) {
    if (keys_[h] == k) return ranks_[h];
    h = (h + 1) & mask_;
  }
  return -1;
}

}  // namespace prima::tokenizer
