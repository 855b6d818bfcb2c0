// Peak probe loop, AMX: 4 independent tile products (TDPBSSD: 16×16 sums of 64 s8×s8 products each) per round,
// the 2×2 block of accumulators an AMX kernel keeps. The A and B tiles are loaded once; the unit never waits on
// memory, only on itself.
#include "kernels/peak.h"

#if defined(__AMX_TILE__) && defined(__AMX_INT8__)
#include <immintrin.h>

#include <cstdint>

#include "kernels/amx_tiles.h"

namespace prima::kernels::detail {
namespace {

PeakRun int8(uint64_t iters) {
  TileConfig cfg;
  cfg.set(0, 7, 16, 64);
  alignas(64) int8_t ab[16 * 64];
  volatile int seed = 3;
  for (int i = 0; i < 16 * 64; ++i) ab[i] = static_cast<int8_t>((i * seed) % 7 - 3);
  _tile_loadconfig(&cfg);
  _tile_loadd(4, ab, 64);
  _tile_loadd(5, ab, 64);
  _tile_loadd(6, ab, 64);
  _tile_loadd(7, ab, 64);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (uint64_t i = 0; i < iters; ++i) {
    _tile_dpbssd(0, 4, 5);
    _tile_dpbssd(1, 4, 7);
    _tile_dpbssd(2, 6, 5);
    _tile_dpbssd(3, 6, 7);
  }
  alignas(64) int32_t c[4][16 * 16];
  _tile_stored(0, c[0], 64);
  _tile_stored(1, c[1], 64);
  _tile_stored(2, c[2], 64);
  _tile_stored(3, c[3], 64);
  _tile_release();
  uint64_t fold = 0;
  for (const auto& t : c) fold += static_cast<uint32_t>(t[0] + t[255]);
  return {2.0 * 4 * 16 * 16 * 64 * static_cast<double>(iters), fold};
}

}  // namespace

PeakFn peak_int8_amx() { return int8; }

}  // namespace prima::kernels::detail
#else
namespace prima::kernels::detail {
PeakFn peak_int8_amx() { return nullptr; }
}  // namespace prima::kernels::detail
#endif
