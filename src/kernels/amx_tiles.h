// The AMX tile configuration (LDTILECFG's 64-byte operand, palette 1). Included only by the translation units
// compiled for the amx set (gemm_amx.cpp, peak_amx.cpp); the configuration is per thread.
#pragma once

#include <cstdint>

namespace prima::kernels::detail {

struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};  // bytes per row of each tile register
  uint8_t rows[16] = {};

  // Tiles first .. last: `n_rows` rows of `bytes` bytes.
  TileConfig& set(int first, int last, int n_rows, int bytes) {
    for (int t = first; t <= last; ++t) {
      rows[t] = static_cast<uint8_t>(n_rows);
      colsb[t] = static_cast<uint16_t>(bytes);
    }
    return *this;
  }
};
static_assert(sizeof(TileConfig) == 64);

}  // namespace prima::kernels::detail
