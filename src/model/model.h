// A GGUF model opened for inference: hyperparameters, RoPE, and views of every layer's weights, validated
// once at open (shapes, types), without touching the weight bytes — pages come in only when a window runs.
// The head's work is here too: embed(tokens) -> hidden, output(hidden) -> logits.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/gguf.h"
#include "kernels/thread_pool.h"
#include "model/hparams.h"
#include "model/rope.h"
#include "model/weights.h"

namespace prima::model {

class Model {
 public:
  // Throws prima::Error naming the file and what is wrong (unsupported architecture, missing tensor, shape).
  static std::unique_ptr<Model> open(const std::string& path);

  const gguf::File& file() const { return file_; }
  const std::string& path() const { return file_.path(); }
  const HParams& hparams() const { return hp_; }
  const Rope& rope() const { return *rope_; }
  const LayerWeights& layer(int32_t il) const { return layers_[static_cast<size_t>(il)]; }
  const HeadWeights& head() const { return head_; }

  // x[t] = token_embd[tokens[t]]                              x: [n_tokens][n_embd]
  // Fails on a token id outside the vocabulary.
  Status embed(std::span<const int32_t> tokens, float* x) const;

  // logits[t] = output · rmsnorm(x[t]) * output_norm           x: [n][n_embd] -> logits: [n][n_vocab]
  // scratch is resized to n * n_embd floats.
  void output(kernels::ThreadPool& pool, const float* x, int32_t n, float* logits, std::vector<float>& scratch) const;

  // Identity of the file for the cluster handshake: size + a hash of the header and tensor table.
  const std::string& fingerprint() const { return fingerprint_; }
  uint64_t header_hash() const { return header_hash_; }

  uint64_t layer_bytes(int32_t il) const { return layers_[static_cast<size_t>(il)].n_bytes; }

 private:
  explicit Model(gguf::File f) : file_(std::move(f)) {}

  gguf::File file_;
  HParams hp_;
  Vec rope_freqs_;
  std::unique_ptr<Rope> rope_;
  std::vector<LayerWeights> layers_;
  HeadWeights head_;
  std::string fingerprint_;
  uint64_t header_hash_ = 0;
};

}  // namespace prima::model
