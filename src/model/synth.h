// Synthetic models: random-weight GGUF files with the real shapes of well-known models (valid blocks, no
// NaNs), for benchmarks and for tests that need a model of a given size. A small SPM vocabulary (byte
// tokens + filler) makes them runnable end to end, though their text is noise.
//
// Weights are drawn as N(0, 1/sqrt(n_in)) rows, quantized once into a pool per (type, row length) and tiled
// across tensors in a shuffled order: generating a 40 GB file is disk-bound.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/arch.h"
#include "tensor/types.h"

namespace prima::model {

struct SynthShape {
  std::string name;
  Arch arch;
  int32_t n_layer, n_embd, n_head, n_head_kv, n_ff, n_vocab, n_ctx_train;
  float rope_freq_base, rms_eps;
  bool tied_output;
};

const std::vector<SynthShape>& synth_shapes();
std::optional<SynthShape> find_synth_shape(const std::string& name);

// File types as llama.cpp names them: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K_M, Q4_K_M,
// Q5_K_M, Q6_K, IQ4_NL.
std::vector<std::string> synth_file_types();

struct SynthOptions {
  SynthShape shape;
  std::string file_type = "Q4_K_M";
  uint64_t seed = 1;
};

// The tensor type a file type gives each tensor (the K-quant mixes follow llama.cpp's rules in spirit:
// attn_v / ffn_down of the first and last eighth of the layers and every third between get Q6_K in *_M
// mixes; the output layer is Q6_K; rows that are not a multiple of 256 fall back to a 32-block type).
ggml_type synth_tensor_type(const std::string& file_type, const std::string& tensor, int32_t il, int32_t n_layer,
                            int64_t row_len);

// Writes the file; returns its size in bytes. Throws prima::Error on an unknown file type or I/O failure.
uint64_t write_synth_model(const SynthOptions& opt, const std::string& path);

}  // namespace prima::model
