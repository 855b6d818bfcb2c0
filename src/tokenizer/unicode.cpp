#include "tokenizer/unicode.h"

namespace prima::tokenizer::unicode {

uint32_t decode_one(std::string_view s, size_t& offset) {
  const auto b = [&](size_t i) { return static_cast<uint8_t>(s[offset + i]); };
  const size_t avail = s.size() - offset;
  const uint8_t b0 = b(0);
  if (b0 < 0x80) {
    offset += 1;
    return b0;
  }
  const auto cont = [&](size_t i) { return (b(i) & 0xC0) == 0x80; };
  if ((b0 & 0xE0) == 0xC0) {
    if (avail >= 2 && cont(1)) {
      const uint32_t cpt = (uint32_t(b0 & 0x1F) << 6) | (b(1) & 0x3F);
      offset += 2;
      return cpt;
    }
  } else if ((b0 & 0xF0) == 0xE0) {
    if (avail >= 3 && cont(1) && cont(2)) {
      const uint32_t cpt = (uint32_t(b0 & 0x0F) << 12) | (uint32_t(b(1) & 0x3F) << 6) | (b(2) & 0x3F);
      offset += 3;
      return cpt;
    }
  } else if ((b0 & 0xF8) == 0xF0) {
    if (avail >= 4 && cont(1) && cont(2) && cont(3)) {
      const uint32_t cpt = (uint32_t(b0 & 0x07) << 18) | (uint32_t(b(1) & 0x3F) << 12) |
                           (uint32_t(b(2) & 0x3F) << 6) | (b(3) & 0x3F);
      if (cpt <= 0x10FFFF) {
        offset += 4;
        return cpt;
      }
    }
  }
  offset += 1;  // continuation byte, 0xF8..0xFF, truncated or broken sequence
  return kReplacement;
}

std::vector<uint32_t> decode(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t off = 0;
  while (off < s.size()) out.push_back(decode_one(s, off));
  return out;
}

void append_utf8(std::string& out, uint32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

bool is_whitespace(uint32_t c) {
  if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || c == 0x20;
  switch (c) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

namespace {
// GPT-2's bytes_to_unicode(): printable Latin-1 bytes stand for themselves, the other 68 bytes
// (0x00-0x20, 0x7F-0xA0, 0xAD) map in order to U+0100.. U+0143.
struct ByteTable {
  std::array<uint32_t, 256> to_cpt{};
  std::array<int16_t, 0x144> to_byte{};
  ByteTable() {
    to_byte.fill(-1);
    uint32_t n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_cpt[b] = printable ? uint32_t(b) : 0x100 + n++;
      to_byte[to_cpt[b]] = static_cast<int16_t>(b);
    }
  }
};
const ByteTable& byte_table() {
  static const ByteTable t;
  return t;
}
}  // namespace

uint32_t byte_to_cpt(uint8_t b) { return byte_table().to_cpt[b]; }

int cpt_to_byte(uint32_t cpt) { return cpt < 0x144 ? byte_table().to_byte[cpt] : -1; }

namespace {
// Length of the strictly valid UTF-8 sequence at s[i] (0 when invalid); sets `incomplete` when the bytes
// so far are a valid beginning cut short by the end of `s`.
size_t valid_len(std::string_view s, size_t i, bool& incomplete) {
  incomplete = false;
  const auto u = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = u(i);
  if (b0 < 0x80) return 1;
  size_t n;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  for (size_t k = 1; k < n; ++k) {
    if (i + k >= s.size()) {
      incomplete = true;
      return 0;
    }
    const uint8_t c = u(i + k);
    if (k == 1 ? (c < lo || c > hi) : (c & 0xC0) != 0x80) return 0;
  }
  return n;
}
}  // namespace

size_t complete_prefix(std::string_view s) {
  // Only the last 3 bytes can start an incomplete sequence.
  const size_t from = s.size() > 3 ? s.size() - 3 : 0;
  for (size_t i = from; i < s.size(); ++i) {
    const uint8_t b = static_cast<uint8_t>(s[i]);
    if (b < 0xC0) continue;  // not a lead byte
    bool incomplete = false;
    (void)valid_len(s, i, incomplete);
    if (incomplete) return i;
  }
  return s.size();
}

std::string sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    bool incomplete = false;
    const size_t n = valid_len(s, i, incomplete);
    if (n == 0) {
      append_utf8(out, kReplacement);
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace prima::tokenizer::unicode
