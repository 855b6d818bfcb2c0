// Loading a vocabulary from GGUF metadata: validation, llama.cpp's defaults, special tokens, pieces.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "core/error.h"
#include "core/log.h"
#include "gguf/gguf.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace prima::tokenizer {

namespace {

constexpr const char* kPrefix = "tokenizer.ggml.";

std::string key(const char* name) { return std::string(kPrefix) + name; }

// A token id key: absent, or -1 / 0xFFFFFFFF (both "none" in the wild), or a value.
std::optional<int64_t> read_id(const gguf::File& f, const char* name) {
  const gguf::Value* v = f.find(key(name));
  if (!v) return std::nullopt;
  PRIMA_CHECK(v->is_integer(), "{}: {}: expected an integer token id, found {}", f.path(), key(name),
              gguf::value_type_name(v->type));
  const bool is_signed = v->type == gguf::ValueType::i8 || v->type == gguf::ValueType::i16 ||
                         v->type == gguf::ValueType::i32 || v->type == gguf::ValueType::i64;
  const int64_t id = is_signed ? v->i : (v->u > uint64_t(INT64_MAX) ? -2 : int64_t(v->u));
  if (id == -1 || (!is_signed && v->u == 0xFFFFFFFFull)) return int64_t(-1);
  return id;
}

// SPM piece: "▁" (U+2581) -> ' '.
std::string unescape_spm(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 3, "\xE2\x96\x81") == 0) {
      out.push_back(' ');
      i += 3;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

// GPT-2 byte-level text -> bytes. A code point that stands for no byte becomes
// "[UNK_BYTE_0x<its utf-8 in hex><the whole text>]", as llama.cpp renders it.
std::string decode_byte_level(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t off = 0;
  while (off < s.size()) {
    const uint32_t c = unicode::decode_one(s, off);
    const int b = unicode::cpt_to_byte(c);
    if (b >= 0) {
      out.push_back(static_cast<char>(b));
    } else {
      std::string utf8;
      unicode::append_utf8(utf8, c);
      out += "[UNK_BYTE_0x";
      for (unsigned char x : utf8) out += fmt::format("{:02x}", x);
      out += s;
      out += "]";
    }
  }
  return out;
}

bool is_byte_token_text(std::string_view t) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); };
  return t.size() == 6 && t.substr(0, 3) == "<0x" && hex(t[3]) && hex(t[4]) && t[5] == '>';
}

// Texts that mark a token as the end of a turn / of generation (llama.cpp infers these by text).
constexpr const char* kEotTexts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                     "<|end_of_text|>", "<EOT>", "_<EOT>", "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
                                     "<end_of_utterance>"};
constexpr const char* kEogTexts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                     "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>"};
// Fill-in-the-middle markers: made CONTROL; pad / repo / file-separator also end generation.
constexpr const char* kFimControlTexts[] = {
    "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "begin\xEF\xBD\x9C>", "<PRE>", "\xE2\x96\x81<PRE>",
    "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81hole\xEF\xBD\x9C>", "<SUF>", "\xE2\x96\x81<SUF>",
    "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "end\xEF\xBD\x9C>", "<MID>", "\xE2\x96\x81<MID>"};
constexpr const char* kFimEogTexts[][5] = {
    {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", nullptr},
    {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"},
    {"<|file_sep|>", nullptr, nullptr, nullptr, nullptr}};

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const gguf::File& f) {
  auto v = std::make_unique<Vocab>();
  v->source = f.path();
  const std::string& path = f.path();

  // ---- model and pre-tokenizer ----
  const auto model = f.find_string(key("model"));
  PRIMA_CHECK(model.has_value(), "{}: missing {} (the file has no tokenizer)", path, key("model"));
  if (*model == "llama") {
    v->type = VocabType::spm;
    v->bos = 1, v->eos = 2, v->unk = 0;
    v->add_space_prefix = true;
    v->add_bos = true;
    v->pre_name = "spm";
  } else if (*model == "gpt2") {
    v->type = VocabType::bpe;
    v->bos = 11, v->eos = 11;  // llama.cpp's defaults for BPE vocabs
    const std::string pre(f.find_string(key("pre")).value_or(""));
    if (pre.empty()) log::warn("{}: no {}; using the 'default' pre-tokenizer", path, key("pre"));
    try {
      v->pre = PreTokenizer::create(pre);
    } catch (const Error& e) {
      fail("{}: {}", path, e.what());
    }
    v->pre_name = std::string(v->pre->info().name);
    v->ignore_merges = v->pre->info().ignore_merges;
    v->add_bos = v->pre->info().add_bos;
    if (v->pre->info().no_bos) v->bos = kNoToken;
  } else {
    fail("{}: {} is '{}'; supported: 'llama' (SentencePiece) and 'gpt2' (byte-level BPE)", path, key("model"), *model);
  }
  if (auto b = f.find_bool(key("add_space_prefix"))) v->add_space_prefix = *b;

  // ---- tokens, scores, types ----
  const gguf::Value* tv = f.find(key("tokens"));
  PRIMA_CHECK(tv != nullptr, "{}: missing {}", path, key("tokens"));
  PRIMA_CHECK(tv->type == gguf::ValueType::array && tv->elem == gguf::ValueType::string,
              "{}: {} must be an array of strings", path, key("tokens"));
  const auto& texts = tv->strings;
  PRIMA_CHECK(!texts.empty(), "{}: {} is empty", path, key("tokens"));
  PRIMA_CHECK(texts.size() < size_t(INT32_MAX), "{}: {} has {} entries (too many)", path, key("tokens"), texts.size());
  const int32_t n = static_cast<int32_t>(texts.size());
  v->n_tokens = n;

  std::vector<float> scores;
  if (f.has(key("scores"))) {
    scores = f.get_f32_array(key("scores"));
    PRIMA_CHECK(scores.size() == texts.size(), "{}: {} has {} entries but there are {} tokens", path, key("scores"),
                scores.size(), n);
  }
  std::vector<int64_t> ttypes;
  if (f.has(key("token_type"))) {
    ttypes = f.get_int_array(key("token_type"));
    PRIMA_CHECK(ttypes.size() == texts.size(), "{}: {} has {} entries but there are {} tokens", path,
                key("token_type"), ttypes.size(), n);
  }

  size_t total = 0;
  for (auto t : texts) total += t.empty() ? 24 : t.size();
  PRIMA_CHECK(total < UINT32_MAX, "{}: {} is too large", path, key("tokens"));
  v->text_arena.reserve(total);
  v->text_off.resize(size_t(n) + 1);
  v->scores.assign(size_t(n), 0.0f);
  v->attr.assign(size_t(n), kAttrNormal);
  v->types.assign(size_t(n), TokenType::undefined);
  for (int32_t id = 0; id < n; ++id) {
    v->text_off[id] = static_cast<uint32_t>(v->text_arena.size());
    if (texts[id].empty()) {
      log::warn("{}: empty token at index {}", path, id);
      v->text_arena += fmt::format("[EMPTY_{}]", id);
    } else {
      v->text_arena += texts[id];
    }
    if (!scores.empty()) v->scores[id] = scores[id];
    if (!ttypes.empty()) {
      const int64_t t = ttypes[id];
      PRIMA_CHECK(t >= 0 && t <= 6, "{}: {}[{}] = {} is not a token type (0..6)", path, key("token_type"), id, t);
      v->types[id] = static_cast<TokenType>(t);
      static constexpr uint32_t kAttrOf[7] = {kAttrUndefined, kAttrNormal,  kAttrUnknown, kAttrControl,
                                              kAttrUserDefined, kAttrUnused, kAttrByte};
      v->attr[id] = kAttrOf[t];
    }
  }
  v->text_off[n] = static_cast<uint32_t>(v->text_arena.size());
  v->index.build(v->text_arena, v->text_off);
  for (int32_t id = 0; id < n; ++id) {
    const token_id first = v->index.find(v->text(id));
    PRIMA_CHECK(first == id, "{}: {}: token {} '{}' duplicates token {}", path, key("tokens"), id, v->text(id), first);
  }

  // ---- special token ids ----
  struct SpecialKey {
    const char* name;
    token_id* id;
    bool required_valid;  // out of range is an error (else: warning, default kept)
  };
  const SpecialKey specials[] = {
      {"bos_token_id", &v->bos, true},      {"eos_token_id", &v->eos, true}, {"eot_token_id", &v->eot, true},
      {"eom_token_id", &v->eom, true},      {"unknown_token_id", &v->unk, true},
      {"seperator_token_id", &v->sep, false}, {"padding_token_id", &v->pad, false},
  };
  for (const auto& s : specials) {
    const auto id = read_id(f, s.name);
    if (!id) continue;
    if (*id == -1) {
      *s.id = kNoToken;
    } else if (*id >= 0 && *id < n) {
      *s.id = static_cast<token_id>(*id);
    } else if (s.required_valid) {
      fail("{}: {} = {} is out of range (the vocab has {} tokens)", path, key(s.name), *id, n);
    } else {
      log::warn("{}: {} = {} is out of range (the vocab has {} tokens); ignored", path, key(s.name), *id, n);
    }
  }
  // Defaults that do not fit this vocab mean "none".
  for (token_id* id : {&v->bos, &v->eos, &v->unk})
    if (*id >= n) *id = kNoToken;
  if (auto b = f.find_bool(key("add_bos_token"))) v->add_bos = *b;
  if (auto b = f.find_bool(key("add_eos_token"))) v->add_eos = *b;
  PRIMA_CHECK(!v->add_bos || v->bos != kNoToken, "{}: {} is set but the vocab has no BOS token", path, key("add_bos_token"));
  PRIMA_CHECK(!v->add_eos || v->eos != kNoToken, "{}: {} is set but the vocab has no EOS token", path, key("add_eos_token"));

  // ---- tokens recognised by their text ----
  auto make_control = [&](token_id id) {
    if (!(v->attr[id] & kAttrControl)) {
      log::debug("{}: token {} '{}' looks like a control token; marking it so", path, id, v->text(id));
      v->attr[id] = kAttrControl;
    }
  };
  if (v->eot == kNoToken)
    for (const char* t : kEotTexts)
      if (token_id id = v->index.find(t); id != kNoToken) {
        v->eot = id;
        make_control(id);
        break;
      }
  if (v->eom == kNoToken)
    if (token_id id = v->index.find("<|eom_id|>"); id != kNoToken) {
      v->eom = id;
      make_control(id);
    }
  for (const char* t : kFimControlTexts)
    if (token_id id = v->index.find(t); id != kNoToken) make_control(id);
  std::vector<token_id> eog;
  for (const auto& group : kFimEogTexts)
    for (const char* t : group)
      if (t)
        if (token_id id = v->index.find(t); id != kNoToken) {
          make_control(id);
          eog.push_back(id);
          break;
        }
  for (const char* t : kEogTexts)
    if (token_id id = v->index.find(t); id != kNoToken) {
      make_control(id);
      eog.push_back(id);
    }
  for (token_id id : {v->eos, v->eot, v->eom})
    if (id != kNoToken) eog.push_back(id);
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  v->eog = std::move(eog);

  // ---- special-token cache: matched in the text before tokenizing, longest first ----
  for (token_id id = 0; id < n; ++id)
    if (v->attr[id] & (kAttrControl | kAttrUserDefined | kAttrUnknown)) v->special_cache.push_back(id);
  std::stable_sort(v->special_cache.begin(), v->special_cache.end(),
                   [&](token_id a, token_id b) { return v->text(a).size() > v->text(b).size(); });

  // ---- BPE merges: "left right" by rank; both sides must be tokens ----
  if (v->type == VocabType::bpe) {
    const gguf::Value* mv = f.find(key("merges"));
    PRIMA_CHECK(mv != nullptr, "{}: missing {} (required for a BPE vocab)", path, key("merges"));
    PRIMA_CHECK(mv->type == gguf::ValueType::array && mv->elem == gguf::ValueType::string,
                "{}: {} must be an array of strings", path, key("merges"));
    PRIMA_CHECK(mv->strings.size() < size_t(INT32_MAX), "{}: {} has too many entries", path, key("merges"));
    v->merges.reserve(mv->strings.size());
    for (size_t i = 0; i < mv->strings.size(); ++i) {
      const std::string_view m = mv->strings[i];
      const size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
      PRIMA_CHECK(sp != std::string_view::npos, "{}: {}[{}] '{}' is not two tokens separated by a space", path,
                  key("merges"), i, m);
      const token_id l = v->index.find(m.substr(0, sp)), r = v->index.find(m.substr(sp + 1));
      PRIMA_CHECK(l != kNoToken && r != kNoToken, "{}: {}[{}] '{}' names a token that is not in the vocab", path,
                  key("merges"), i, m);
      v->merges.insert(l, r, static_cast<int32_t>(i));
    }
  }

  // ---- SPM byte fallback ----
  v->byte_token.fill(kNoToken);
  if (v->type == VocabType::spm) {
    for (token_id id = 0; id < n; ++id)
      PRIMA_CHECK(!(v->attr[id] & kAttrByte) || is_byte_token_text(v->text(id)),
                  "{}: token {} '{}' has type BYTE but is not of the form <0xNN>", path, id, v->text(id));
    for (int b = 0; b < 256; ++b) {
      token_id id = v->index.find(fmt::format("<0x{:02X}>", b));
      if (id == kNoToken) id = v->index.find(std::string(1, static_cast<char>(b)));
      v->byte_token[b] = id != kNoToken ? id : v->unk;
    }
  }

  // ---- pieces (rendered with special = true; piece_view() hides CONTROL/UNKNOWN on request) ----
  v->piece_off.resize(size_t(n) + 1);
  v->piece_arena.reserve(v->text_arena.size());
  for (token_id id = 0; id < n; ++id) {
    v->piece_off[id] = static_cast<uint32_t>(v->piece_arena.size());
    const uint32_t a = v->attr[id];
    const std::string_view t = v->text(id);
    if (a & (kAttrUnknown | kAttrControl | kAttrUserDefined)) {
      v->piece_arena += t;
    } else if (a & kAttrNormal) {
      v->piece_arena += v->type == VocabType::spm ? unescape_spm(t) : decode_byte_level(t);
    } else if ((a & kAttrByte) && v->type == VocabType::spm) {
      v->piece_arena.push_back(static_cast<char>(std::stoi(std::string(t.substr(3, 2)), nullptr, 16)));
    }
    PRIMA_CHECK(v->piece_arena.size() < UINT32_MAX, "{}: vocab pieces too large", path);
  }
  v->piece_off[n] = static_cast<uint32_t>(v->piece_arena.size());

  // ---- per-model token attributes (llama.cpp: Phi-3 strips spaces after special tokens) ----
  std::string name(f.find_string("general.name").value_or(""));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    for (token_id id : v->special_cache) v->attr[id] |= kAttrRstrip;
    if (token_id id = v->index.find("</s>"); id != kNoToken) v->attr[id] |= kAttrRstrip;
    for (const char* t : {"<unk>", "<s>", "<|endoftext|>"})
      if (token_id id = v->index.find(t); id != kNoToken) v->attr[id] &= ~kAttrRstrip;
  }

  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(v)));
}

}  // namespace prima::tokenizer
