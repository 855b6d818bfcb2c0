// BPE pre-tokenizers (internal to src/tokenizer): `tokenizer.ggml.pre` names a list of regular expressions
// that split text into words before byte-level BPE runs on each word.
//
// Splitting follows llama.cpp exactly:
//   - the text is decoded leniently (unicode.h); each regex of the list is applied in turn to every piece
//     the previous ones produced, each piece matched on its own (no look-behind or look-ahead across
//     pieces, `$` only at the piece end); both the matches and the gaps between them become pieces;
//   - non-ASCII white space (unicode::is_whitespace) is seen by the regexes as U+000B, as llama.cpp
//     does, so `\s` means exactly that set;
//   - the patterns are the ones llama.cpp uses (facts), run with PCRE2 (UTF, UCP, JIT) on real Unicode
//     properties; their Unicode tables (PCRE2's) may differ from llama.cpp's for code points assigned
//     after Unicode 14.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace prima::tokenizer {

struct PreTokenizerInfo {
  std::string_view name;       // canonical family name
  bool ignore_merges = false;  // a word that is a token is taken whole (Llama 3)
  bool add_bos = false;        // default of add_bos_token for this family
  bool clean_spaces = true;    // llama.cpp's detokenizer clean-up flag (informational)
  bool no_bos = false;         // the family has no BOS token (chatglm)
};

class Regex;

class PreTokenizer {
 public:
  // `pre` is the value of tokenizer.ggml.pre ("" when absent: llama.cpp's "default" list). Throws
  // prima::Error for an unknown name, listing the known ones.
  static std::unique_ptr<PreTokenizer> create(std::string_view pre);
  ~PreTokenizer();

  const PreTokenizerInfo& info() const { return info_; }
  // Appends the words of `text` (UTF-8, invalid input re-encoded as U+FFFD) to `words`.
  void split(std::string_view text, std::vector<std::string>& words) const;
  // The names create() accepts.
  static std::vector<std::string_view> known_names();

 private:
  PreTokenizer() = default;
  PreTokenizerInfo info_;
  std::vector<std::unique_ptr<Regex>> regexes_;
};

}  // namespace prima::tokenizer
