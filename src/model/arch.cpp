#include "model/arch.h"

#include <fmt/format.h>

#include <array>

namespace prima::model {
namespace {

constexpr std::array<ArchInfo, 2> kArchs = {{
    {Arch::llama, "llama", RopeType::norm, false},
    {Arch::qwen2, "qwen2", RopeType::neox, true},
}};

constexpr std::array<std::string_view, kLayerTensorCount> kLayerSuffix = {
    "attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight", "attn_q.bias",
    "attn_k.bias",      "attn_v.bias",   "ffn_norm.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight",
};

}  // namespace

std::optional<ArchInfo> find_arch(std::string_view name) {
  for (const auto& a : kArchs)
    if (a.name == name) return a;
  return std::nullopt;
}

std::string supported_arch_list() {
  std::string s;
  for (const auto& a : kArchs) s += (s.empty() ? "" : ", ") + std::string(a.name);
  return s;
}

std::string layer_tensor_name(LayerTensor t, int il) {
  return fmt::format("blk.{}.{}", il, kLayerSuffix[static_cast<size_t>(t)]);
}

}  // namespace prima::model
