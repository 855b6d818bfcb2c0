// Shared helpers for the tokenizer tests.
#pragma once

#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace prima::tokenizer::test {

inline std::string fixtures() { return PRIMA_FIXTURES_DIR; }

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// One loaded tokenizer per file for the whole test binary (the big vocabs take a moment to load).
inline const Tokenizer& load(const std::string& path) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& t = cache[path];
  if (!t) t = Tokenizer::from_gguf(gguf::File::open(path));
  return *t;
}

inline const Tokenizer& vocab(const std::string& name) {
  return load(fixtures() + "/vocab/ggml-vocab-" + name + ".gguf");
}

// a + b (spelled out: g++ 12 warns falsely on operator+ with a literal).
inline std::string cat(std::string_view a, std::string_view b) {
  std::string s;
  s.reserve(a.size() + b.size());
  s.append(a);
  s.append(b);
  return s;
}

inline std::string join_ids(const std::vector<token_id>& ids) {
  std::string s;
  for (auto id : ids) {
    if (!s.empty()) s.push_back(' ');
    s.append(std::to_string(id));
  }
  return s;
}

}  // namespace prima::tokenizer::test
