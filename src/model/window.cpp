#include "model/window.h"

#include <cstring>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/vec.h"
#include "model/attention.h"

namespace prima::model {

void Workspace::reserve(const HParams& hp, int32_t n_tokens) {
  if (n_tokens <= n_tokens_) return;
  const size_t n = static_cast<size_t>(n_tokens);
  const size_t n_q = static_cast<size_t>(hp.n_head) * static_cast<size_t>(hp.n_embd_head);
  xn.resize(n * static_cast<size_t>(hp.n_embd));
  q.resize(n * n_q);
  k.resize(n * static_cast<size_t>(hp.n_embd_kv()));
  v.resize(n * static_cast<size_t>(hp.n_embd_kv()));
  att.resize(n * n_q);
  tmp.resize(n * static_cast<size_t>(hp.n_embd));
  gate.resize(n * static_cast<size_t>(hp.n_ff));
  up.resize(n * static_cast<size_t>(hp.n_ff));
  cos.resize(n * static_cast<size_t>(hp.n_rot / 2));
  sin.resize(n * static_cast<size_t>(hp.n_rot / 2));
  n_tokens_ = n_tokens;
}

Window::Window(const Model& model, int32_t il_begin, int32_t il_end, KvConfig kv)
    : model_(model), hp_(model.hparams()), il_begin_(il_begin), il_end_(il_end), kv_(model.hparams(), il_begin, il_end, kv) {
  for (int32_t il = il_begin; il < il_end; ++il) {
    const LayerWeights& w = model.layer(il);
    layers_.push_back(&w);
    ranges_.insert(ranges_.end(), w.ranges.begin(), w.ranges.end());
    n_bytes_ += w.n_bytes;
  }
}

Status Window::forward(kernels::ThreadPool& pool, Workspace& ws, const Batch& batch, float* x, LayerHook* hook) {
  if (batch.n_tokens <= 0) return Status::ok();
  if (Status st = kv_.admit(batch.pos, batch.seq, batch.n_tokens); !st) return st;
  ws.reserve(hp_, batch.n_tokens);
  model_.rope().angles({batch.pos, static_cast<size_t>(batch.n_tokens)}, ws.cos.data(), ws.sin.data());
  for (size_t j = 0; j < layers_.size(); ++j) {
    if (hook) hook->before_layer(static_cast<int32_t>(j));
    layer(pool, ws, *layers_[j], batch, x);
    if (hook) hook->after_layer(static_cast<int32_t>(j));
  }
  return Status::ok();
}

void Window::layer(kernels::ThreadPool& pool, Workspace& ws, const LayerWeights& w, const Batch& batch, float* x) {
  const int32_t n = batch.n_tokens, n_embd = hp_.n_embd, n_embd_kv = hp_.n_embd_kv(), hd = hp_.n_embd_head;
  const int32_t n_q = hp_.n_head * hd;

  // --- attention block:  x = x + Wo · attention(rope(Wq·norm(x)), rope(Wk·norm(x)), Wv·norm(x))
  for (int32_t t = 0; t < n; ++t)
    kernels::rmsnorm(x + size_t(t) * n_embd, w.attn_norm.data, ws.xn.data() + size_t(t) * n_embd, n_embd, hp_.rms_eps);
  // q: [n][n_head][hd], k and v: [n][n_head_kv][hd]
  kernels::matmul(pool, {{w.wq, ws.q.data()}, {w.wk, ws.k.data()}, {w.wv, ws.v.data()}}, ws.xn.data(), n);
  if (w.bq) {
    kernels::add_rows(ws.q.data(), w.bq.data, n, n_q);
    kernels::add_rows(ws.k.data(), w.bk.data, n, n_embd_kv);
    kernels::add_rows(ws.v.data(), w.bv.data, n, n_embd_kv);
  }
  model_.rope().apply(ws.q.data(), n, hp_.n_head, ws.cos.data(), ws.sin.data());
  model_.rope().apply(ws.k.data(), n, hp_.n_head_kv, ws.cos.data(), ws.sin.data());

  // Store this batch's keys and values in the cache: row pos of KV head g of the token's sequence.
  const bool f16 = kv_.config().type == ggml_type::F16;
  for (int32_t t = 0; t < n; ++t) {
    for (int32_t g = 0; g < hp_.n_head_kv; ++g) {
      const float* kt = ws.k.data() + (size_t(t) * hp_.n_head_kv + g) * hd;
      const float* vt = ws.v.data() + (size_t(t) * hp_.n_head_kv + g) * hd;
      const size_t row = size_t(batch.pos[t]) * hd;
      if (f16) {
        kernels::f32_to_f16_row(kt, static_cast<fp16_t*>(kv_.k(w.il, batch.seq[t], g)) + row, hd);
        kernels::f32_to_f16_row(vt, static_cast<fp16_t*>(kv_.v(w.il, batch.seq[t], g)) + row, hd);
      } else {
        std::memcpy(static_cast<float*>(kv_.k(w.il, batch.seq[t], g)) + row, kt, size_t(hd) * 4);
        std::memcpy(static_cast<float*>(kv_.v(w.il, batch.seq[t], g)) + row, vt, size_t(hd) * 4);
      }
    }
  }
  attention(pool, hp_, kv_, w.il, batch, ws.q.data(), ws.att.data(), ws.scores);
  kernels::matmul(pool, w.wo, ws.att.data(), n, ws.tmp.data());  // tmp: [n][n_embd]
  kernels::add(x, ws.tmp.data(), int64_t{n} * n_embd);

  // --- feed-forward block:  x = x + W_down · (silu(W_gate·norm(x)) * W_up·norm(x))
  for (int32_t t = 0; t < n; ++t)
    kernels::rmsnorm(x + size_t(t) * n_embd, w.ffn_norm.data, ws.xn.data() + size_t(t) * n_embd, n_embd, hp_.rms_eps);
  kernels::matmul(pool, {{w.w_gate, ws.gate.data()}, {w.w_up, ws.up.data()}}, ws.xn.data(), n);  // [n][n_ff] each
  kernels::silu_mul(ws.gate.data(), ws.up.data(), int64_t{n} * hp_.n_ff);
  kernels::matmul(pool, w.w_down, ws.gate.data(), n, ws.tmp.data());  // tmp: [n][n_embd]
  kernels::add(x, ws.tmp.data(), int64_t{n} * n_embd);
}

}  // namespace prima::model
