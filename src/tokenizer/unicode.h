// UTF-8 and GPT-2 byte-level helpers for the tokenizers (internal to src/tokenizer).
//
// Decoding is lenient, exactly as llama.cpp decodes tokenizer input:
//   - a lead byte announces the length by its high bits (0xxx 1, 110x 2, 1110 3, 11110 4); the value is
//     assembled without checking for overlong forms or surrogates;
//   - a stray continuation byte, a lead byte 0xF8..0xFF, a truncated sequence, or a sequence whose
//     continuation bytes are not 10xxxxxx consumes ONE byte and yields U+FFFD;
//   - (our addition) a 4-byte value above U+10FFFF also yields U+FFFD for its lead byte (llama.cpp throws
//     an exception from inside llama_tokenize there).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace prima::tokenizer::unicode {

inline constexpr uint32_t kReplacement = 0xFFFD;

// Bytes of the UTF-8 sequence started by `lead` judged by its high nibble only (1 for continuation
// bytes), as llama.cpp's SPM and BPE symbol splitting does.
inline int len_from_lead(uint8_t lead) {
  static constexpr int kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

// Decodes one code point at `offset` (lenient, see above) and advances offset.
uint32_t decode_one(std::string_view s, size_t& offset);
std::vector<uint32_t> decode(std::string_view s);
void append_utf8(std::string& out, uint32_t cpt);  // cpt <= 0x10FFFF (surrogates are encoded as-is)

// White_Space as llama.cpp defines it (U+0009..000D, 0020, 0085, 00A0, 1680, 2000..200A, 2028, 2029,
// 202F, 205F, 3000).
bool is_whitespace(uint32_t cpt);

// GPT-2 byte-level encoding: every byte maps to one printable code point.
uint32_t byte_to_cpt(uint8_t b);
// The inverse; -1 for a code point that stands for no byte.
int cpt_to_byte(uint32_t cpt);

// Length of the longest prefix of `s` that does not end inside an incomplete (but so far valid) UTF-8
// sequence. Bytes after it may become a character when more bytes arrive.
size_t complete_prefix(std::string_view s);
// `s` with every invalid byte replaced by U+FFFD (strict UTF-8: no overlongs, surrogates or > U+10FFFF).
std::string sanitize(std::string_view s);

}  // namespace prima::tokenizer::unicode
