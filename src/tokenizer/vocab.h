// The loaded vocabulary (internal to src/tokenizer). Built once by Tokenizer::from_gguf, immutable after.
// Token texts and pieces live in two arenas (no allocation per token); lookups use open-addressing
// tables built once.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"

namespace prima::tokenizer {

// Token attributes as llama.cpp keeps them (bit flags).
enum Attr : uint32_t {
  kAttrUndefined = 0,
  kAttrUnknown = 1u << 0,
  kAttrUnused = 1u << 1,
  kAttrNormal = 1u << 2,
  kAttrControl = 1u << 3,
  kAttrUserDefined = 1u << 4,
  kAttrByte = 1u << 5,
  kAttrLstrip = 1u << 7,
  kAttrRstrip = 1u << 8,
};

// Open-addressing hash table: string -> token id, over the vocab's text arena.
class TextIndex {
 public:
  void build(const std::string& arena, const std::vector<uint32_t>& off);
  token_id find(std::string_view s) const;

 private:
  static uint64_t hash(std::string_view s);
  const std::string* arena_ = nullptr;
  const std::vector<uint32_t>* off_ = nullptr;
  std::vector<token_id> slots_;  // power-of-two size, kNoToken = empty
  uint64_t mask_ = 0;
};

// Open-addressing hash table: (left id, right id) -> merge rank.
class MergeIndex {
 public:
  void reserve(size_t n);
  // Inserts unless present (the first rank of a duplicate merge wins, as in llama.cpp).
  void insert(token_id left, token_id right, int32_t rank);
  int32_t find(token_id left, token_id right) const;  // -1 when not a merge
  size_t size() const { return n_; }

 private:
  static uint64_t key(token_id l, token_id r) { return (uint64_t(uint32_t(l)) << 32) | uint32_t(r); }
  std::vector<uint64_t> keys_;
  std::vector<int32_t> ranks_;  // -1 = empty
  uint64_t mask_ = 0;
  size_t n_ = 0;
};

struct Vocab {
  std::string source;  // file name, for messages
  VocabType type = VocabType::spm;
  int32_t n_tokens = 0;

  std::string text_arena;          // token texts back to back
  std::vector<uint32_t> text_off;  // [n_tokens + 1]
  std::vector<float> scores;       // [n_tokens] (SPM merge priority)
  std::vector<uint32_t> attr;      // [n_tokens] Attr bits
  std::vector<TokenType> types;    // [n_tokens] as in the file (undefined when absent)
  TextIndex index;
  MergeIndex merges;                     // BPE
  std::unique_ptr<PreTokenizer> pre;     // BPE
  std::array<token_id, 256> byte_token;  // SPM byte fallback: byte -> <0xNN> (or the 1-char token), or -1

  std::string piece_arena;          // pieces rendered with special = true
  std::vector<uint32_t> piece_off;  // [n_tokens + 1]

  std::vector<token_id> special_cache;  // CONTROL | USER_DEFINED | UNKNOWN, longest text first
  std::vector<token_id> eog;            // sorted

  token_id bos = kNoToken, eos = kNoToken, eot = kNoToken, eom = kNoToken, unk = kNoToken, pad = kNoToken,
           sep = kNoToken;
  bool add_bos = false, add_eos = false, add_space_prefix = false, ignore_merges = false;
  std::string pre_name;

  std::string_view text(token_id id) const {
    return std::string_view(text_arena).substr(text_off[id], text_off[id + 1] - text_off[id]);
  }
  std::string_view piece(token_id id) const {
    return std::string_view(piece_arena).substr(piece_off[id], piece_off[id + 1] - piece_off[id]);
  }
  bool valid(token_id id) const { return id >= 0 && id < n_tokens; }
};

// Encoders of raw text fragments (no special tokens inside): append ids to `out`.
void spm_encode(const Vocab& v, std::string_view text, std::vector<token_id>& out);
void bpe_encode(const Vocab& v, std::string_view text, std::vector<token_id>& out);

}  // namespace prima::tokenizer
