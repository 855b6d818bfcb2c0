// libFuzzer target: arbitrary bytes through the tokenizers of fixture vocabularies (SPM and several BPE
// pre-tokenizers). Input: byte 0 picks the vocab and the flags, the rest is the text.
// With bit 0x40 of byte 0 the input instead describes a small hostile vocabulary (see fuzz_vocab()): it must
// load or fail with prima::Error, and a loaded one must encode and decode its text safely.
// Checks: no crash / exception / UB; every id in range; the stream decoder emits valid UTF-8 equal to the
// sanitized concatenation of the pieces and never holds more than 3 bytes; valid UTF-8 text round-trips
// through encode/decode on the byte-level BPE vocabs and on SPM (byte fallback).
#include <cstdio>
#include <iterator>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "gguf/gguf.h"
#include "gguf/writer.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

#ifndef PRIMA_FIXTURES_DIR
#define PRIMA_FIXTURES_DIR "../shared/fixtures"
#endif

using namespace prima::tokenizer;

namespace {

const char* kVocabs[] = {"llama-spm", "qwen2", "llama-bpe", "deepseek-llm", "deepseek-coder", "falcon", "gpt-2", "starcoder"};
constexpr size_t kNumVocabs = sizeof(kVocabs) / sizeof(kVocabs[0]);
std::vector<std::unique_ptr<Tokenizer>> g_tok;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_tokenizer: check failed: %s\n", what);
    std::abort();
  }
}

}  // namespace

// With PRIMA_FUZZ_SEEDS=DIR: writes a few seed inputs (each text for a mix of vocabs and flags) and exits.
void write_seeds(const char* dir) {
  const std::string texts[] = {"Hello, world! 3333 \xC3\xA9 \xF0\x9F\xA6\x99", "<|im_start|>user\nhi<|im_end|>",
                               "  \n\n\t x", "\xFF\xFE\xED\xA0\x80", "I'm 'RE you sure?' \xE2\x96\x81\xE2\x96\x81"};
  const uint8_t sels[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x11, 0x22};
  int n = 0;
  for (size_t t = 0; t < std::size(texts); ++t)
    for (uint8_t sel : sels) {
      const std::string path = std::string(dir) + "/seed" + std::to_string(t) + "_" + std::to_string(sel);
      FILE* f = std::fopen(path.c_str(), "wb");
      if (!f) continue;
      std::fputc(sel, f);
      std::fwrite(texts[t].data(), 1, texts[t].size(), f);
      std::fclose(f);
      ++n;
    }
  // Vocab mode: header (mode, model, pre-tokenizer, BOS id, flags), then NUL-separated text and tokens.
  auto vocab_seed = [](char model, char bos, std::initializer_list<std::string_view> chunks) {
    std::string v = {'\x40', model, '\x00', bos, '\x00'};
    bool first = true;
    for (auto c : chunks) {
      if (!first) v.push_back('\0');
      v.append(c);
      first = false;
    }
    return v;
  };
  const std::string vocab_seeds[] = {
      vocab_seed('\x00', '\x01', {"Hello world", "\x02<unk>", "\x03<s>", "\x03</s>", "\x06<0x41>", "\x01\xE2\x96\x81H", "\x01" "ello"}),
      vocab_seed('\x01', '\x04', {"abcab <|x|>", "\x01" "a", "\x01" "b", "\x01" "c", "\x01" "ab", "\x03<|x|>"})};
  for (size_t t = 0; t < std::size(vocab_seeds); ++t) {
    const std::string path = std::string(dir) + "/vocab" + std::to_string(t);
    if (FILE* f = std::fopen(path.c_str(), "wb")) {
      std::fwrite(vocab_seeds[t].data(), 1, vocab_seeds[t].size(), f);
      std::fclose(f);
      ++n;
    }
  }
  std::printf("wrote %d seeds\n", n);
  std::exit(0);
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* seeds = std::getenv("PRIMA_FUZZ_SEEDS")) write_seeds(seeds);
  prima::log::set_level(prima::log::Level::error);  // fuzzed vocabs warn a lot (empty tokens, odd ids)
  const char* dir = std::getenv("PRIMA_FIXTURES_DIR");
  const std::string base = std::string(dir ? dir : PRIMA_FIXTURES_DIR) + "/vocab/ggml-vocab-";
  for (const char* name : kVocabs) {
    const auto f = prima::gguf::File::open(base + name + ".gguf");
    g_tok.push_back(Tokenizer::from_gguf(f));
  }
  return 0;
}

// Input after byte 0: model (even: llama, odd: gpt2), pre-tokenizer index, BOS id, flags, then chunks separated
// by NUL: the text to encode, then tokens, each "<type byte><text>". BPE merges join neighbouring tokens (and, with
// flag 1, name a token that does not exist); flag 2 adds add_bos_token, flag 4 a token_type array one too short.
void fuzz_vocab(const uint8_t* data, size_t size) {
  if (size < 4) return;
  const bool spm = data[0] % 2 == 0;
  const auto pres = PreTokenizer::known_names();
  const std::string_view pre = pres[data[1] % pres.size()];
  const uint32_t bos = data[2], flags = data[3];
  std::vector<std::string> chunks(1);
  for (size_t i = 4; i < size; ++i) {
    if (data[i] == 0) chunks.emplace_back();
    else chunks.back().push_back(static_cast<char>(data[i]));
  }
  const std::string text = chunks[0];
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<float> scores;
  for (size_t i = 1; i < chunks.size() && tokens.size() < 64; ++i) {
    if (chunks[i].empty()) continue;
    types.push_back(static_cast<uint8_t>(chunks[i][0]) % 8);
    tokens.push_back(chunks[i].substr(1));
    scores.push_back(-static_cast<float>(tokens.size()));
  }
  prima::gguf::Writer w;
  w.set_string("tokenizer.ggml.model", spm ? "llama" : "gpt2");
  if (!spm) w.set_string("tokenizer.ggml.pre", std::string(pre));
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  if ((flags & 4) && !types.empty()) types.pop_back();
  if (!types.empty() || (flags & 4)) w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_f32_array("tokenizer.ggml.scores", scores);
  w.set_u32("tokenizer.ggml.bos_token_id", bos);
  if (flags & 2) w.set_bool("tokenizer.ggml.add_bos_token", true);
  if (!spm) {
    std::vector<std::string> merges;
    for (size_t i = 0; i + 1 < tokens.size(); ++i) merges.push_back(tokens[i] + " " + tokens[i + 1]);
    if (flags & 1) merges.push_back("no-such-token x");
    w.set_string_array("tokenizer.ggml.merges", merges);
  }
  const auto bytes = w.to_bytes([](size_t, uint64_t, std::span<uint8_t>) {});
  std::unique_ptr<Tokenizer> tok;
  try {
    const auto f = prima::gguf::File::parse(bytes, "fuzz.gguf");
    tok = Tokenizer::from_gguf(f);
  } catch (const prima::Error&) {
    return;  // rejected with a clear error: fine
  }
  for (bool special : {false, true}) {
    const auto ids = tok->encode(text, true, special);
    for (token_id id : ids) check(id >= 0 && id < tok->n_tokens(), "id in range (fuzzed vocab)");
    (void)tok->decode(ids, special);
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t sel = data[0];
  if (sel & 0x40) {
    fuzz_vocab(data + 1, size - 1);
    return 0;
  }
  const Tokenizer& tok = *g_tok[(sel & 0x0F) % kNumVocabs];
  const bool parse_special = sel & 0x10, add_special = sel & 0x20;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

  const std::vector<token_id> ids = tok.encode(text, add_special, parse_special);
  for (token_id id : ids) check(id >= 0 && id < tok.n_tokens(), "id in range");

  std::string pieces, streamed;
  StreamDecoder dec(tok);
  for (token_id id : ids) {
    pieces += tok.piece_view(id);
    streamed += dec.push(id);
    check(dec.pending() <= 3, "at most 3 bytes held");
  }
  streamed += dec.flush();
  check(unicode::sanitize(streamed) == streamed, "stream output is valid UTF-8");
  check(streamed == unicode::sanitize(pieces), "stream output = sanitized pieces");

  const std::string back = tok.decode(ids, /*skip_special=*/false);
  const bool valid = unicode::sanitize(text) == text;
  const std::string_view name = kVocabs[(sel & 0x0F) % kNumVocabs];
  if (!parse_special && !add_special && valid) {
    if (name == "qwen2" || name == "llama-bpe") check(back == text, "BPE round trip");
    if (name == "llama-spm" && text.find("\xE2\x96\x81") == std::string::npos) check(back == text, "SPM round trip");
  }
  return 0;
}
