#include "profiler/workload.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace prima::profiler {
namespace {

bool supported(ggml_type t) {
  return std::find(std::begin(kSupportedTypes), std::end(kSupportedTypes), t) != std::end(kSupportedTypes);
}

bool is_matrix(const gguf::TensorInfo& t) { return t.n_dims >= 2 && t.ne[1] > 1 && t.ne[2] == 1 && t.ne[3] == 1; }

}  // namespace

std::vector<MatrixShape> matrices_to_measure(const gguf::File& file, const scheduler::ModelStats& stats,
                                             std::vector<std::string>& notes) {
  const bool has_output = file.find_tensor("output.weight") != nullptr;
  // Per type: the biggest block matrix; the output layer only for a type no block uses.
  std::map<ggml_type, const gguf::TensorInfo*> block_pick, output_pick;
  for (const auto& t : file.tensors()) {
    if (!is_matrix(t)) continue;
    const bool block = t.name.rfind("blk.", 0) == 0;
    const bool output = t.name == "output.weight" || (!has_output && t.name == "token_embd.weight");
    if (!block && !output) continue;
    auto& pick = block ? block_pick[t.type] : output_pick[t.type];
    if (pick == nullptr || t.size > pick->size) pick = &t;
  }
  for (const auto& [type, t] : output_pick)
    if (!block_pick.count(type)) block_pick[type] = t;

  std::vector<MatrixShape> out;
  for (const auto& [type, t] : block_pick) {
    if (!supported(type)) {
      notes.push_back(fmt::format("{} ({}): prima has no kernel for this type, not measured", type_name(type), t->name));
      continue;
    }
    out.push_back({type, t->ne[0], t->ne[1], t->name});
  }
  PRIMA_CHECK(!out.empty(), "{}: no weight matrix of a type prima can compute", file.path());
  const bool has_f16 = std::any_of(out.begin(), out.end(), [](const MatrixShape& m) { return m.type == ggml_type::F16; });
  if (!has_f16 && stats.n_embd > 0) out.push_back({ggml_type::F16, stats.n_embd, stats.n_embd, ""});
  return out;
}

}  // namespace prima::profiler
