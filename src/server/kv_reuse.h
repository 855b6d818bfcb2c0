// Reusing a sequence's KV cache for its next prompt. The cache holds the K/V of the tokens evaluated so far; a
// new prompt that starts with the same tokens (the next turn of a chat re-rendered whole, a shared system
// prompt) only needs the positions after the common prefix evaluated. At least the prompt's last token is always
// evaluated: its logits give the first new token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace prima::server {

inline size_t common_prefix(std::span<const int32_t> a, std::span<const int32_t> b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

// Positions of `cached` to keep for `prompt` (non-empty): the common prefix, but never the whole prompt.
inline int32_t reusable_prefix(std::span<const int32_t> cached, std::span<const int32_t> prompt) {
  const size_t n = common_prefix(cached, prompt);
  return static_cast<int32_t>(n < prompt.size() ? n : prompt.size() - 1);
}

}  // namespace prima::server
