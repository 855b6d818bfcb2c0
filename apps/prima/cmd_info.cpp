// prima info -m MODEL: what a GGUF file holds (metadata, tensors, bytes per type). Validates the whole file.
#include <fmt/format.h>

#include <map>
#include <memory>

#include "command.h"
#include "core/format.h"
#include "gguf/gguf.h"

namespace prima::app {
namespace {

struct InfoOptions {
  std::string model;
  bool tensors = false;
};

CommandMain setup(CLI::App& sub) {
  auto o = std::make_shared<InfoOptions>();
  sub.add_option("-m,--model", o->model, "GGUF model file")->required();
  sub.add_flag("--tensors", o->tensors, "list every tensor");
  return [o]() {
    const auto f = gguf::File::open(o->model);
    fmt::print("{}: GGUF v{}, {} metadata keys, {} tensors, alignment {}, data at {}, {}\n", o->model, f.version(),
               f.kv().size(), f.tensors().size(), f.alignment(), f.data_offset(), format_bytes(f.file_size()));
    for (const auto& [k, v] : f.kv()) fmt::print("  {:<40} {}\n", k, v.to_string());
    std::map<std::string_view, std::pair<uint64_t, uint64_t>> by_type;  // name -> (count, bytes)
    uint64_t n_params = 0;
    for (const auto& t : f.tensors()) {
      auto& e = by_type[type_name(t.type)];
      ++e.first;
      e.second += t.size;
      n_params += static_cast<uint64_t>(t.n_elements());
      if (o->tensors)
        fmt::print("  {:<32} {:<6} {:<24} {}\n", t.name, type_name(t.type), t.shape_string(), format_bytes(t.size));
    }
    fmt::print("parameters: {}\n", format_count(n_params));
    for (const auto& [name, e] : by_type) fmt::print("  {:<8} {:>5} tensors {:>12}\n", name, e.first, format_bytes(e.second));
    return 0;
  };
}

}  // namespace
PRIMA_COMMAND(info, "info", "Show what a GGUF model file holds (metadata, tensors)", 90, setup);
}  // namespace prima::app
