// CLI options shared by the subcommands that run a model (run, chat, serve, bench), named as llama.cpp names
// them where it has them, and the code that turns them into an Engine and a Sampler.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "model/model.h"
#include "runtime/engine.h"
#include "sampling/params.h"

namespace prima::app {

struct EngineCli {
  std::string model;
  // The ring (empty workers: this device alone).
  std::string workers;        // "host:port,host:port"
  std::string layer_window;   // "a,b,c" per device, head last
  std::string listen = "0.0.0.0:0";
  std::string device_threads;
  std::string act_type = "f32";
  std::string cluster_key;
  bool no_pipeline = false;
  std::string device_mem;     // GiB per device, head last
  std::string plan = "auto";  // auto: profile the devices and let Halda plan; even: an even split
  bool reprofile = false;
  bool recover = false;
  double profile_seconds = 8.0;
  std::string save_profiles;
  // Memory (this device; workers get --device-prefetch / --device-mem through the Config).
  std::string prefetch = "auto";
  double mem_gib = 0;
  std::string release = "auto";
  std::string huge_pages = "auto";
  int32_t n_ctx = 0;
  int32_t threads = 0;
  int32_t n_ubatch = 512;
  int32_t n_seq = 1;
  std::string kv_type = "f16";
  bool verbose = false;
};

void add_engine_options(CLI::App& sub, EngineCli& o);
std::unique_ptr<runtime::Engine> make_engine(const EngineCli& o, const model::Model& model);

struct SamplingCli {
  sampling::SamplingParams params;
  int64_t seed = -1;
};

void add_sampling_options(CLI::App& sub, SamplingCli& o);
// Validated parameters (throws prima::Error naming the bad flag's value).
sampling::SamplingParams sampling_params(const SamplingCli& o, int32_t n_vocab);

}  // namespace prima::app
