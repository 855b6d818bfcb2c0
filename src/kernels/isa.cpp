#include "kernels/isa.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "core/log.h"
#include "kernels/gemm_impl.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define PRIMA_ISA_X86 1
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#define PRIMA_ISA_ARM 1
#if defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#elif defined(__APPLE__)
#include <sys/sysctl.h>
#endif
#endif

namespace prima::kernels {
namespace {

#if defined(PRIMA_ISA_X86)
struct CpuFeatures {
  bool avx2 = false;
  bool avx_vnni = false;  // AVX-VNNI (VEX vpdpbusd / vpdpwssd), on top of avx2
  bool avx512 = false;
  bool amx = false;  // AMX-TILE + AMX-INT8 with the OS's tile state enabled (XCR0); the process's permission apart
};

uint64_t xgetbv0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), f16c = c & (1u << 29), avx = c & (1u << 28);
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = xgetbv0();
  const bool os_ymm = (xcr0 & 0x6) == 0x6;    // SSE + AVX state
  const bool os_zmm = (xcr0 & 0xe6) == 0xe6;  // + opmask, ZMM_Hi256, Hi16_ZMM
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx2 = b & (1u << 5), bmi2 = b & (1u << 8);
  const bool avx512f = b & (1u << 16), avx512dq = b & (1u << 17), avx512bw = b & (1u << 30),
             avx512vl = b & (1u << 31), vnni = c & (1u << 11);
  unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
  __cpuid_count(7, 1, a1, b1, c1, d1);
  const bool avxvnni = a1 & (1u << 4), bf16 = a1 & (1u << 5);
  const bool amx_tile = d & (1u << 24), amx_int8 = d & (1u << 25);
  const bool os_tiles = (xcr0 & 0x60000) == 0x60000;  // XTILECFG, XTILEDATA
  f.avx2 = os_ymm && avx2 && fma && f16c && bmi2;
  f.avx_vnni = f.avx2 && avxvnni;
  f.avx512 = f.avx2 && os_zmm && avx512f && avx512dq && avx512bw && avx512vl && vnni && bf16;
  f.amx = f.avx512 && amx_tile && amx_int8 && os_tiles;
  return f;
}

const CpuFeatures& features() {
  static const CpuFeatures f = detect();
  return f;
}

// Linux enables the 8 KiB of tile data per thread only for processes that ask (the state is large to save on
// every context switch); the grant is process-wide and covers threads started before and after. Asked once,
// when the amx set is first considered; a refusal (old kernel, seccomp) leaves the set unavailable.
bool amx_permitted() {
#if defined(__linux__)
  constexpr long kReqXcompPerm = 0x1023;  // ARCH_REQ_XCOMP_PERM
  constexpr long kXfeatureXtiledata = 18;
  static const bool ok = syscall(SYS_arch_prctl, kReqXcompPerm, kXfeatureXtiledata) == 0;
  return ok;
#else
  return false;
#endif
}

bool amx_available() {
  static const bool v = features().amx && detail::amx_kernels() != nullptr && amx_permitted();
  return v;
}
#endif

#if defined(PRIMA_ISA_ARM)
// The ARMv8.2 dot-product instructions (SDOT / UDOT), as the OS reports them: the kernel's hwcaps on Linux and
// Android, sysctl on macOS. Unknown elsewhere: false, the plain NEON table runs.
bool cpu_has_dotprod() {
#if defined(__linux__) && defined(HWCAP_ASIMDDP)
  return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#elif defined(__APPLE__)
  int v = 0;
  size_t size = sizeof v;
  return sysctlbyname("hw.optional.arm.FEAT_DotProd", &v, &size, nullptr, 0) == 0 && v != 0;
#else
  return false;
#endif
}

bool dotprod_available() {
  // The table is only touched (built) once the CPU is known to run its instructions.
  static const bool v = cpu_has_dotprod() && detail::neon_dotprod_kernels() != nullptr;
  return v;
}
#endif

std::string names() {
  std::string s;
  for (Isa i : kAllIsas) s += std::string(s.empty() ? "" : ", ") + std::string(isa_name(i));
  return s;
}

Isa from_env_or_best() {
  const char* env = std::getenv("PRIMA_ISA");
  if (env && *env) {
    for (Isa i : kAllIsas) {
      if (isa_name(i) == env) {
        if (isa_available(i)) return i;
        log::warn("PRIMA_ISA={} is not available on this CPU; using {}", env, isa_name(best_isa()));
        return best_isa();
      }
    }
    log::warn("PRIMA_ISA={} is unknown ({}); using {}", env, names(), isa_name(best_isa()));
  }
  return best_isa();
}

std::atomic<int> g_active{-1};

}  // namespace

bool isa_available(Isa isa) {
  switch (isa) {
    case Isa::scalar: return true;
#if defined(PRIMA_ISA_X86)
    case Isa::avx2: return features().avx2;
    case Isa::avx_vnni: return features().avx_vnni && detail::avxvnni_kernels() != nullptr;
    case Isa::avx512: return features().avx512;
    case Isa::amx: return amx_available();
#else
    case Isa::avx2:
    case Isa::avx_vnni:
    case Isa::avx512:
    case Isa::amx: return false;
#endif
#if defined(PRIMA_ISA_ARM)
    case Isa::neon: return true;  // NEON is part of the AArch64 baseline: every aarch64 CPU has it
    case Isa::neon_dotprod: return dotprod_available();
#else
    case Isa::neon:
    case Isa::neon_dotprod: return false;
#endif
  }
  return false;
}

Isa best_isa() {
  for (Isa i : {Isa::amx, Isa::avx512, Isa::avx_vnni, Isa::avx2, Isa::neon_dotprod, Isa::neon})
    if (isa_available(i)) return i;
  return Isa::scalar;
}

Isa active_isa() {
  int v = g_active.load(std::memory_order_relaxed);
  if (v < 0) {
    int expected = -1;
    g_active.compare_exchange_strong(expected, static_cast<int>(from_env_or_best()));
    v = g_active.load(std::memory_order_relaxed);
  }
  return static_cast<Isa>(v);
}

void set_isa(Isa isa) {
  PRIMA_CHECK(isa_available(isa), "instruction set {} is not available on this CPU", isa_name(isa));
  g_active.store(static_cast<int>(isa), std::memory_order_relaxed);
}

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx_vnni: return "avxvnni";
    case Isa::avx512: return "avx512";
    case Isa::amx: return "amx";
    case Isa::neon: return "neon";
    case Isa::neon_dotprod: return "neondot";
  }
  return "?";
}

}  // namespace prima::kernels
