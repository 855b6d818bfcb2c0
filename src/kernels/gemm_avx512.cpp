// AVX-512 kernel table.
#include "kernels/gemm_impl.h"

namespace prima::kernels::detail {
const IsaKernels* avx512_kernels() { return nullptr; }
}  // namespace prima::kernels::detail
