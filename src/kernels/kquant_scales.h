// Internal: packing of the 6-bit sub-block scales of the K-quants (shared by the dequantizers, the reference
// quantizers and the scalar dot products).
//
// Q4_K / Q5_K: 12 bytes hold 8 scales sc[j] and 8 mins m[j], 6 bits each:
//   j < 4:  sc[j] = s[j] & 63,                          m[j] = s[j + 4] & 63
//   j >= 4: sc[j] = (s[j + 4] & 15) | (s[j - 4] >> 6) << 4,  m[j] = (s[j + 4] >> 4) | (s[j] >> 6) << 4
// Q3_K: 12 bytes hold 16 scales l[j] (6 bits, stored + 32): the low nibbles of l[0..7] are the low nibbles of
//   s[0..7], those of l[8..15] the high nibbles of s[0..7]; the top 2 bits of l[j] are bits 2*(j/4)..+1 of
//   s[8 + j % 4].
//
// Everything here is `static inline` so that SIMD translation units (compiled with other flags) may include
// it without sharing out-of-line copies with baseline code.
#pragma once

#include <cstdint>

namespace prima::kernels::detail {

static inline void k4_scale_min(int j, const uint8_t* s, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

static inline void k4_pack_scales(const uint8_t sc[8], const uint8_t m[8], uint8_t s[12]) {
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    s[j + 4] = static_cast<uint8_t>((m[j] & 63) | ((m[j + 4] >> 4) << 6));
    s[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
  }
}

// The 16 Q3_K scales, already minus 32 (range -32..31).
static inline void q3k_scales(const uint8_t* s, int sc[16]) {
  for (int j = 0; j < 16; ++j) {
    const int lo = j < 8 ? (s[j] & 15) : (s[j - 8] >> 4);
    const int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    sc[j] = (lo | (hi << 4)) - 32;
  }
}

// l[j] = scale + 32 in 0..63.
static inline void q3k_pack_scales(const int l[16], uint8_t s[12]) {
  for (int j = 0; j < 12; ++j) s[j] = 0;
  for (int j = 0; j < 16; ++j) {
    const int v = l[j] & 63;
    if (j < 8)
      s[j] = static_cast<uint8_t>(s[j] | (v & 15));
    else
      s[j - 8] = static_cast<uint8_t>(s[j - 8] | ((v & 15) << 4));
    s[8 + j % 4] = static_cast<uint8_t>(s[8 + j % 4] | ((v >> 4) << (2 * (j / 4))));
  }
}

}  // namespace prima::kernels::detail
