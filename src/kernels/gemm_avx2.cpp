// AVX2 (+FMA/F16C) kernel table.
#include "kernels/gemm_impl.h"

namespace prima::kernels::detail {
const IsaKernels* avx2_kernels() { return nullptr; }
}  // namespace prima::kernels::detail
