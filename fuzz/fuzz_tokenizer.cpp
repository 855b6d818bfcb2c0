// libFuzzer target: arbitrary bytes through the tokenizers of fixture vocabularies (SPM and several BPE
// pre-tokenizers). Input: byte 0 picks the vocab and the flags, the rest is the text.
// Checks: no crash / exception / UB; every id in range; the stream decoder emits valid UTF-8 equal to the
// sanitized concatenation of the pieces and never holds more than 3 bytes; valid UTF-8 text round-trips
// through encode/decode on the byte-level BPE vocabs and on SPM (byte fallback).
#include <cstdio>
#include <iterator>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf.h"
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
  std::printf("wrote %d seeds\n", n);
  std::exit(0);
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* seeds = std::getenv("PRIMA_FUZZ_SEEDS")) write_seeds(seeds);
  const char* dir = std::getenv("PRIMA_FIXTURES_DIR");
  const std::string base = std::string(dir ? dir : PRIMA_FIXTURES_DIR) + "/vocab/ggml-vocab-";
  for (const char* name : kVocabs) {
    const auto f = prima::gguf::File::open(base + name + ".gguf");
    g_tok.push_back(Tokenizer::from_gguf(f));
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t sel = data[0];
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
