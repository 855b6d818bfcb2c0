#include "tensor/types.h"

#include <array>
#include <cctype>

#include "core/error.h"

namespace prima {
namespace {

constexpr uint32_t kMaxId = 40;

struct Entry {
  bool known;
  TypeTraits t;
};

constexpr std::array<Entry, kMaxId> make_table() {
  std::array<Entry, kMaxId> e{};
  auto set = [&](ggml_type id, std::string_view name, uint32_t bs, uint32_t ts, bool q, bool sup) {
    e[static_cast<uint32_t>(id)] = Entry{true, TypeTraits{name, bs, ts, q, sup}};
  };
  set(ggml_type::F32, "F32", 1, 4, false, true);
  set(ggml_type::F16, "F16", 1, 2, false, true);
  set(ggml_type::Q4_0, "Q4_0", 32, 18, true, true);
  set(ggml_type::Q4_1, "Q4_1", 32, 20, true, true);
  set(ggml_type::Q5_0, "Q5_0", 32, 22, true, true);
  set(ggml_type::Q5_1, "Q5_1", 32, 24, true, true);
  set(ggml_type::Q8_0, "Q8_0", 32, 34, true, true);
  set(ggml_type::Q8_1, "Q8_1", 32, 36, true, false);
  set(ggml_type::Q2_K, "Q2_K", 256, 84, true, true);
  set(ggml_type::Q3_K, "Q3_K", 256, 110, true, true);
  set(ggml_type::Q4_K, "Q4_K", 256, 144, true, true);
  set(ggml_type::Q5_K, "Q5_K", 256, 176, true, true);
  set(ggml_type::Q6_K, "Q6_K", 256, 210, true, true);
  set(ggml_type::Q8_K, "Q8_K", 256, 292, true, false);
  set(ggml_type::IQ2_XXS, "IQ2_XXS", 256, 66, true, false);
  set(ggml_type::IQ2_XS, "IQ2_XS", 256, 74, true, false);
  set(ggml_type::IQ3_XXS, "IQ3_XXS", 256, 98, true, false);
  set(ggml_type::IQ1_S, "IQ1_S", 256, 50, true, false);
  set(ggml_type::IQ4_NL, "IQ4_NL", 32, 18, true, true);
  set(ggml_type::IQ3_S, "IQ3_S", 256, 110, true, false);
  set(ggml_type::IQ2_S, "IQ2_S", 256, 82, true, false);
  set(ggml_type::IQ4_XS, "IQ4_XS", 256, 136, true, false);
  set(ggml_type::I8, "I8", 1, 1, false, false);
  set(ggml_type::I16, "I16", 1, 2, false, false);
  set(ggml_type::I32, "I32", 1, 4, false, false);
  set(ggml_type::I64, "I64", 1, 8, false, false);
  set(ggml_type::F64, "F64", 1, 8, false, false);
  set(ggml_type::IQ1_M, "IQ1_M", 256, 56, true, false);
  set(ggml_type::BF16, "BF16", 1, 2, false, true);
  set(ggml_type::TQ1_0, "TQ1_0", 256, 54, true, false);
  set(ggml_type::TQ2_0, "TQ2_0", 256, 66, true, false);
  set(ggml_type::MXFP4, "MXFP4", 32, 17, true, false);
  return e;
}

constexpr auto kTable = make_table();

}  // namespace

const ggml_type kSupportedTypes[14] = {ggml_type::F32,  ggml_type::F16,  ggml_type::BF16, ggml_type::Q4_0,
                                       ggml_type::Q4_1, ggml_type::Q5_0, ggml_type::Q5_1, ggml_type::Q8_0,
                                       ggml_type::Q2_K, ggml_type::Q3_K, ggml_type::Q4_K, ggml_type::Q5_K,
                                       ggml_type::Q6_K, ggml_type::IQ4_NL};

std::optional<TypeTraits> type_traits(uint32_t id) {
  if (id >= kMaxId || !kTable[id].known) return std::nullopt;
  return kTable[id].t;
}

const TypeTraits& traits(ggml_type t) {
  const auto id = static_cast<uint32_t>(t);
  PRIMA_ASSERT(id < kMaxId && kTable[id].known);
  return kTable[id].t;
}

std::optional<ggml_type> type_from_name(std::string_view name) {
  for (uint32_t id = 0; id < kMaxId; ++id) {
    if (!kTable[id].known) continue;
    const auto n = kTable[id].t.name;
    if (n.size() != name.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < n.size() && eq; ++i)
      eq = std::toupper(static_cast<unsigned char>(name[i])) == static_cast<unsigned char>(n[i]);
    if (eq) return static_cast<ggml_type>(id);
  }
  return std::nullopt;
}

}  // namespace prima
