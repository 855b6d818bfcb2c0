#include "model/model.h"

#include <fmt/format.h>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/quant.h"

namespace prima::model {
namespace {

// FNV-1a 64 over the header and tensor table (everything before the tensor data): cheap (a few MiB even for a
// 150k-token vocabulary) and, with the file size, enough to tell two different model files apart.
uint64_t hash_header(const gguf::File& f) {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto bytes = f.bytes().first(static_cast<size_t>(std::min<uint64_t>(f.data_offset(), f.file_size())));
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace

std::unique_ptr<Model> Model::open(const std::string& path) {
  std::unique_ptr<Model> m(new Model(gguf::File::open(path)));
  m->hp_ = HParams::from_gguf(m->file_);
  m->rope_freqs_ = load_rope_freqs(m->file_, m->hp_);
  m->rope_ = std::make_unique<Rope>(m->hp_, m->rope_freqs_.data);
  m->layers_.reserve(static_cast<size_t>(m->hp_.n_layer));
  for (int32_t il = 0; il < m->hp_.n_layer; ++il) m->layers_.push_back(LayerWeights::load(m->file_, m->hp_, il));
  m->head_ = HeadWeights::load(m->file_, m->hp_);
  m->header_hash_ = hash_header(m->file_);
  m->fingerprint_ = fmt::format("{}:{:016x}", m->file_.file_size(), m->header_hash_);
  return m;
}

Status Model::embed(std::span<const int32_t> tokens, float* x) const {
  const auto* emb = head_.token_embd;
  const uint64_t row = row_size(emb->type, static_cast<uint64_t>(hp_.n_embd));
  for (size_t t = 0; t < tokens.size(); ++t) {
    const int32_t id = tokens[t];
    if (id < 0 || id >= hp_.n_vocab)
      return Status::error(Status::Code::invalid, "token id {} is outside the vocabulary (0..{})", id, hp_.n_vocab - 1);
    kernels::dequantize_row(emb->type, emb->data + row * static_cast<uint64_t>(id), x + t * static_cast<size_t>(hp_.n_embd),
                            hp_.n_embd);
  }
  return Status::ok();
}

void Model::output(kernels::ThreadPool& pool, const float* x, int32_t n, float* logits,
                   std::vector<float>& scratch) const {
  const size_t n_embd = static_cast<size_t>(hp_.n_embd);
  if (scratch.size() < static_cast<size_t>(n) * n_embd) scratch.resize(static_cast<size_t>(n) * n_embd);
  for (int32_t t = 0; t < n; ++t)
    kernels::rmsnorm(x + t * n_embd, head_.output_norm.data, scratch.data() + t * n_embd, hp_.n_embd, hp_.rms_eps);
  kernels::matmul(pool, head_.output, scratch.data(), n, logits);
}

}  // namespace prima::model
