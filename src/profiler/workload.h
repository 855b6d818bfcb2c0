// Which matrices the CPU measurements use: one per weight type present in the model's matrices (blocks and
// output layer), with the shape of that type's biggest block matrix (the model's real row length n_in = ne0 and
// rows n_out = ne1: n_embd for attention and gate/up, n_ff for down), plus F16 at n_embd x n_embd when the model
// has no F16 matrix (the planner prices attention over the F16 KV cache at the F16 figure).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "scheduler/model_stats.h"

namespace prima::profiler {

struct MatrixShape {
  ggml_type type = ggml_type::F32;
  int64_t n_in = 0;   // row length
  int64_t n_out = 0;  // rows
  std::string tensor; // the tensor it was taken from ("" for the attention F16 entry)
};

// Types our kernels cannot compute are left out with a note (the model cannot run here anyway). Throws
// prima::Error when no matrix type is left.
std::vector<MatrixShape> matrices_to_measure(const gguf::File& file, const scheduler::ModelStats& stats,
                                             std::vector<std::string>& notes);

}  // namespace prima::profiler
