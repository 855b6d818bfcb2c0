#include <gtest/gtest.h>

#include <cstring>

#include <sys/mman.h>

#include "core/clock.h"
#include "kernels/bandwidth.h"
#include "test_util.h"

namespace prima::kernels {
namespace {

TEST(Bandwidth, ProbeIsPositiveAndBoundedInTime) {
  test::IsaGuard guard;
  for (Isa isa : test::available_isas()) {
    set_isa(isa);
    for (int n : {1, 2}) {
      ThreadPool pool(n);
      const Stopwatch sw;
      const ReadBandwidth bw = measure_read_bandwidth(pool, 16 << 20, 0.05);
      EXPECT_GT(bw.median_gbs, 0.1) << isa_name(isa);
      EXPECT_LE(bw.median_gbs, bw.best_gbs) << isa_name(isa);
      EXPECT_LT(bw.best_gbs, 10000.0) << isa_name(isa);
      EXPECT_GE(bw.passes, 3) << isa_name(isa);
      EXPECT_LT(sw.elapsed_s(), 5.0);  // 0.05 s of passes + allocation, with slack for a loaded machine
    }
  }
}

TEST(Bandwidth, ProbeReadsItsBufferOnePassAtATime) {
  for (int n : {1, 2}) {
    ThreadPool pool(n);
    // Small: slices of whole 4 KiB pages; large enough for 4 huge pages per thread: whole 2 MiB pages.
    for (size_t bytes : {size_t{3} << 20, size_t{20} << 20}) {
      ReadProbe probe(pool, bytes);
      const size_t unit = bytes / static_cast<size_t>(n) >= (size_t{8} << 20) ? (size_t{2} << 20) : 4096;
      EXPECT_EQ(probe.bytes() % (unit * static_cast<size_t>(n)), 0u) << bytes << " on " << n;
      EXPECT_LE(probe.bytes(), bytes);
      EXPECT_GT(probe.bytes(), bytes - unit * static_cast<size_t>(n));
      for (int pass = 0; pass < 3; ++pass) {
        const double gbs = probe.pass();
        EXPECT_GT(gbs, 0.1);
        EXPECT_LT(gbs, 10000.0);
      }
    }
  }
}

TEST(Bandwidth, ReadPassTrimsItsRangesInward) {
  // 1 MiB + 3 pages, the last one unreadable: nothing past a range's end may be read.
  const size_t page = 4096, size = (size_t{1} << 20) + 2 * page;
  void* m = ::mmap(nullptr, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(m, MAP_FAILED);
  auto* buf = static_cast<uint8_t*>(m);
  std::memset(buf, 1, size);
  ASSERT_EQ(::mprotect(buf + size, page, PROT_NONE), 0);
  const uint8_t* end = buf + size;
  test::IsaGuard guard;
  for (Isa isa : test::available_isas()) {
    set_isa(isa);
    for (int n : {1, 2}) {
      ThreadPool pool(n);
      const MemRange ranges[] = {
          {buf + 3, 1000},        // 64-aligned from buf + 64 to buf + 1003: one 512-byte run
          {end - 1000, 1000},     // ends at the guard page: 1000 - 24 (to the next 64) = 976 -> 512
          {buf, 100},             // under one run: nothing
          {nullptr, 4096},        // nothing
          {buf + page, size - 2 * page},  // 1 MiB: four 256 KiB items
      };
      const ReadPass r = read_pass(pool, ranges);
      EXPECT_EQ(r.bytes, 512u + 512u + (size_t{1} << 20)) << isa_name(isa) << " " << n;
      EXPECT_GT(r.gbs, 0.0);
      EXPECT_EQ(read_pass(pool, std::span<const MemRange>()).bytes, 0u);
      EXPECT_EQ(read_pass(pool, std::span<const MemRange>()).gbs, 0.0);
    }
  }
  ::munmap(m, size + page);
}

TEST(Bandwidth, ReadKernelsRunOnAlignedBuffers) {
  std::vector<uint64_t> buf(4096 / 8 * 4);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = i * 0x9e3779b97f4a7c15ull;
  alignas(64) static uint8_t aligned[16384];
  std::memcpy(aligned, buf.data(), sizeof(aligned));
  const uint64_t ref = detail::read_scalar(aligned, sizeof(aligned));
  if (detail::read_avx2() && isa_available(Isa::avx2)) {
    EXPECT_NE(detail::read_avx2()(aligned, sizeof(aligned)), 0u);
  }
  if (detail::read_neon() && isa_available(Isa::neon)) {
    EXPECT_EQ(detail::read_neon()(aligned, sizeof(aligned)), ref);  // both fold by xor: the same value
  }
  EXPECT_NE(ref, 0u);
}

}  // namespace
}  // namespace prima::kernels
