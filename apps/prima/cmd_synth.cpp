// prima synth --shape llama3-8b --type Q4_K_M -o FILE: a random-weight GGUF with a real model's shape.
#include <fmt/format.h>

#include <memory>

#include "command.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/format.h"
#include "model/synth.h"

namespace prima::app {
namespace {

struct SynthCli {
  std::string shape, type = "Q4_K_M", out;
  uint64_t seed = 1;
  int32_t n_layer = 0;
};

CommandMain setup(CLI::App& sub) {
  auto o = std::make_shared<SynthCli>();
  std::string shapes;
  for (const auto& s : model::synth_shapes()) shapes += (shapes.empty() ? "" : "|") + s.name;
  std::string types;
  for (const auto& t : model::synth_file_types()) types += (types.empty() ? "" : "|") + t;
  sub.add_option("--shape", o->shape, shapes)->required();
  sub.add_option("--type", o->type, types);
  sub.add_option("-o,--output", o->out, "output GGUF file")->required();
  sub.add_option("--seed", o->seed, "random seed");
  sub.add_option("--n-layer", o->n_layer, "override the layer count (smaller files of a real shape)");
  return [o]() {
    auto shape = model::find_synth_shape(o->shape);
    if (!shape) fail("unknown shape '{}'", o->shape);
    if (o->n_layer < 0 || o->n_layer > 1024) fail("--n-layer {} is out of range", o->n_layer);
    if (o->n_layer > 0) shape->n_layer = o->n_layer;
    Stopwatch sw;
    const uint64_t size = model::write_synth_model({*shape, o->type, o->seed}, o->out);
    fmt::print(stderr, "prima: wrote {} ({} {} x {} layers, {}) in {:.1f} s\n", o->out, shape->name, o->type,
               shape->n_layer, format_bytes(size), sw.elapsed_s());
    return 0;
  };
}

}  // namespace
PRIMA_COMMAND(synth, "synth", "Write a random-weight GGUF with the shape of a real model (for benchmarks)", 70, setup);
}  // namespace prima::app
