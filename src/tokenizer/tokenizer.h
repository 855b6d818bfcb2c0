// Tokenizers exactly as llama.cpp runs them: SPM (`tokenizer.ggml.model` = "llama") and byte-level BPE
// ("gpt2") with the pre-tokenizer named by `tokenizer.ggml.pre`. See docs/tokenizer.md.
//
// API (everything in prima::tokenizer):
//
//   auto tok = Tokenizer::from_gguf(file);              // throws prima::Error "<file>: <field>: ..." on a bad vocab
//   std::vector<token_id> ids = tok->encode(text, /*add_special=*/true, /*parse_special=*/false);
//   std::string text = tok->decode(ids);                 // concatenated pieces (see decode())
//   tok->piece(id)  tok->token_text(id)  tok->n_tokens()  tok->bos()  tok->eos()  tok->is_eog(id)
//
//   StreamDecoder dec(*tok);                             // generated text, token by token:
//   std::cout << dec.push(id);  ...  std::cout << dec.flush();   // never half a UTF-8 character
//
// GGUF keys read (all under tokenizer.ggml.): model, pre, tokens (required, non-empty, unique), scores,
// token_type, merges (BPE, required), bos/eos/eot/eom/unknown/seperator/padding_token_id,
// add_bos_token, add_eos_token, add_space_prefix. Defaults as llama.cpp applies them: SPM adds BOS,
// has BOS 1 / EOS 2 / UNK 0 and a space prefix; BPE adds BOS only for Llama-3 style pre-tokenizers
// (or when add_bos_token says so). EOT/EOM and the end-of-generation set are also inferred from token
// texts (<|eot_id|>, <|im_end|>, <|end|>, <|endoftext|>, <｜end▁of▁sentence｜>, <|eom_id|>, ...).
//
// Input text is arbitrary bytes: SPM falls back to <0xNN> byte tokens; BPE sees invalid UTF-8 as
// U+FFFD, one per bad byte (as llama.cpp does). encode() never throws on bad text.
// A Tokenizer is immutable after loading: encode/decode may be called from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace prima::gguf {
class File;
}

namespace prima::tokenizer {

using token_id = int32_t;
inline constexpr token_id kNoToken = -1;

enum class VocabType { spm, bpe };

// tokenizer.ggml.token_type values.
enum class TokenType : int32_t { undefined = 0, normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };

struct Vocab;  // internal (tokenizer/vocab.h)

class Tokenizer {
 public:
  // Reads the vocabulary from a GGUF file's metadata. Throws prima::Error naming the file and the field
  // for: missing/empty/duplicate tokens, array lengths that disagree, special token ids out of range,
  // merges that are malformed or name unknown tokens, an unknown tokenizer model or pre-tokenizer,
  // byte tokens not of the form <0xNN>.
  static std::unique_ptr<Tokenizer> from_gguf(const gguf::File& f);
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Text to token ids. add_special: add BOS / EOS as the model wants (add_bos() / add_eos()).
  // parse_special: recognise the text of CONTROL tokens (e.g. "<|im_start|>") as those tokens; without
  // it they are plain text. USER_DEFINED tokens are always recognised, as in llama.cpp.
  std::vector<token_id> encode(std::string_view text, bool add_special, bool parse_special) const;

  // Token ids to bytes, as llama.cpp's detokenizer (without its optional clean-up of spaces before
  // punctuation): pieces concatenated, the leading space an SPM vocab adds removed from the first
  // token's piece. skip_special = false renders CONTROL tokens as their text; true drops them and a
  // leading BOS / trailing EOS (then the leading space is kept, as llama.cpp does). Ids out of range
  // decode to nothing. The result may be invalid UTF-8 where the ids are (byte tokens).
  std::string decode(std::span<const token_id> ids, bool skip_special = false) const;

  // The bytes a token stands for: <0xNN> -> that byte, SPM "▁" -> ' ', GPT-2 byte-level text decoded.
  // CONTROL and UNKNOWN tokens give their text only when `special` is true, else "". Out of range -> "".
  std::string piece(token_id id, bool special = false) const { return std::string(piece_view(id, special)); }
  std::string_view piece_view(token_id id, bool special = false) const;
  // The token's text as stored in the vocab ("▁the", "Ġthe", "<0x0A>"); "" when out of range.
  std::string_view token_text(token_id id) const;
  // The id whose text is exactly `text`, or kNoToken.
  token_id find_token(std::string_view text) const;

  int32_t n_tokens() const;
  VocabType type() const;
  std::string_view pre_name() const;  // canonical pre-tokenizer family ("llama3", "qwen2", ...; SPM: "spm")
  TokenType token_type(token_id id) const;
  bool is_control(token_id id) const;  // CONTROL or UNKNOWN: not shown unless asked
  bool is_eog(token_id id) const;      // ends generation (EOS, EOT, EOM, <|im_end|>, ...)
  std::span<const token_id> eog_ids() const;

  token_id bos() const;  // kNoToken when the vocab has none
  token_id eos() const;
  token_id eot() const;
  token_id eom() const;
  token_id unk() const;
  token_id pad() const;
  bool add_bos() const;
  bool add_eos() const;
  bool add_space_prefix() const;

  const Vocab& vocab() const { return *v_; }

 private:
  explicit Tokenizer(std::unique_ptr<Vocab> v);
  std::unique_ptr<Vocab> v_;
};

// Turns generated tokens into text as they arrive, holding back the bytes of a UTF-8 character that is
// not complete yet. The output is always valid UTF-8: bytes that can never become a character are
// replaced by U+FFFD. CONTROL tokens produce nothing unless `special` is set.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok, bool special = false) : tok_(&tok), special_(special) {}
  std::string push(token_id id);
  std::string flush();  // whatever is held back (incomplete -> U+FFFD); the decoder starts afresh
  size_t pending() const { return held_.size(); }

 private:
  const Tokenizer* tok_;
  bool special_;
  std::string held_;
};

}  // namespace prima::tokenizer
