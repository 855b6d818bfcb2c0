#include "model/stats.h"

#include <charconv>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "tensor/types.h"

namespace prima::model {
namespace {

// "blk.12.attn_q.weight" -> 12; nullopt for a name outside the blocks.
std::optional<uint64_t> block_index(std::string_view name) {
  constexpr std::string_view prefix = "blk.";
  if (name.substr(0, prefix.size()) != prefix) return std::nullopt;
  const char* first = name.data() + prefix.size();
  const char* last = name.data() + name.size();
  uint64_t il = 0;
  const auto [ptr, ec] = std::from_chars(first, last, il);
  if (ec != std::errc() || ptr == first || ptr == last || *ptr != '.') return std::nullopt;
  return il;
}

// Per-token FLOPs of a weight tensor used as a matrix (one multiply-add per weight, per used expert).
double matmul_flops(const gguf::TensorInfo& t, uint64_t n_expert_used) {
  if (t.n_dims < 2) return 0;
  double f = 2.0 * static_cast<double>(t.ne[0]) * static_cast<double>(t.ne[1]);
  if (t.n_dims >= 3) f *= static_cast<double>(std::min<uint64_t>(static_cast<uint64_t>(t.ne[2]), n_expert_used));
  return f;
}

int checked_dim(uint64_t v, const std::string& path, const std::string& key, uint64_t max) {
  PRIMA_CHECK(v >= 1 && v <= max, "{}: key '{}' = {} is out of range (1..{})", path, key, v, max);
  return static_cast<int>(v);
}

}  // namespace

scheduler::ModelStats compute_stats(const gguf::File& f, uint64_t kv_type_bytes) {
  const std::string& path = f.path();
  scheduler::ModelStats s;
  s.arch = std::string(f.get_string("general.architecture"));
  const std::string a = s.arch + ".";
  s.name = f.find_string("general.name") ? std::string(*f.find_string("general.name"))
                                         : std::filesystem::path(path).filename().string();

  s.n_layer = checked_dim(f.get_u32(a + "block_count"), path, a + "block_count", 4096);
  s.n_embd = checked_dim(f.get_u32(a + "embedding_length"), path, a + "embedding_length", 1u << 20);
  s.n_head = checked_dim(f.get_u32(a + "attention.head_count"), path, a + "attention.head_count", 1u << 14);
  s.n_head_kv = checked_dim(f.find_u32(a + "attention.head_count_kv").value_or(static_cast<uint32_t>(s.n_head)), path,
                            a + "attention.head_count_kv", static_cast<uint64_t>(s.n_head));
  const auto key_length = f.find_u32(a + "attention.key_length");
  s.n_embd_head =
      key_length ? checked_dim(*key_length, path, a + "attention.key_length", 1u << 16) : s.n_embd / s.n_head;
  PRIMA_CHECK(s.n_embd_head >= 1, "{}: n_embd {} is smaller than the head count {}", path, s.n_embd, s.n_head);
  s.n_ff = static_cast<int>(f.find_u32(a + "feed_forward_length").value_or(0));
  s.n_ctx_train = static_cast<int>(f.find_u32(a + "context_length").value_or(0));
  const uint64_t n_expert_used = f.find_u32(a + "expert_used_count").value_or(1u << 30);

  s.layers.resize(static_cast<size_t>(s.n_layer));
  const gguf::TensorInfo* embd = nullptr;
  const gguf::TensorInfo* output = nullptr;
  for (const auto& t : f.tensors()) {
    s.weight_bytes += t.size;
    const std::string type(type_name(t.type));
    if (const auto il = block_index(t.name)) {
      PRIMA_CHECK(*il < static_cast<uint64_t>(s.n_layer), "{}: tensor '{}' is in block {} but the model has {} blocks",
                  path, t.name, *il, s.n_layer);
      auto& layer = s.layers[*il];
      layer.bytes_by_type[type] += t.size;
      layer.bytes += t.size;
      if (const double fl = matmul_flops(t, n_expert_used); fl > 0) {
        layer.flops_by_type[type] += fl;
        layer.flops += fl;
      }
    } else if (t.name == "token_embd.weight") {
      embd = &t;
      s.input_bytes = t.size;
      s.input_row_bytes = t.row_bytes();
    } else if (t.name == "output.weight") {
      output = &t;
      s.output_bytes += t.size;
      s.output_flops_by_type[type] += matmul_flops(t, n_expert_used);
    } else if (t.name.rfind("output_norm.", 0) == 0) {
      s.output_bytes += t.size;
    } else {
      s.other_bytes += t.size;
    }
  }
  PRIMA_CHECK(embd, "{}: missing tensor 'token_embd.weight'", path);
  PRIMA_CHECK(embd->n_dims == 2, "{}: tensor 'token_embd.weight' has {} dimensions, expected 2", path, embd->n_dims);
  s.n_vocab = static_cast<int>(embd->ne[1]);
  if (!output) {  // tied: the output layer multiplies by token_embd.weight, read whole every token
    s.tied_output = true;
    s.output_bytes += embd->size;
    s.output_flops_by_type[std::string(type_name(embd->type))] += matmul_flops(*embd, n_expert_used);
  }
  for (const auto& [t, fl] : s.output_flops_by_type) s.output_flops += fl;
  for (size_t il = 0; il < s.layers.size(); ++il)
    PRIMA_CHECK(s.layers[il].bytes > 0, "{}: block {} has no tensors", path, il);

  s.derive_attention(kv_type_bytes);
  return s;
}

}  // namespace prima::model
