// The kernel table of one x86 instruction set (the includer compiles this file with that set's flags).

static IsaKernels make_table() {
  IsaKernels k{};
  auto set = [&](ggml_type t, TileFn f) { k.tile[static_cast<int>(t)] = f; };
  set(ggml_type::F32, FloatKernel<F32W>::tile);
  set(ggml_type::F16, FloatKernel<F16W>::tile);
  set(ggml_type::BF16, FloatKernel<BF16W>::tile);
  set(ggml_type::Q4_0, Q32Kernel<block_q4_0>::tile);
  set(ggml_type::Q4_1, Q32Kernel<block_q4_1>::tile);
  set(ggml_type::Q5_0, Q32Kernel<block_q5_0>::tile);
  set(ggml_type::Q5_1, Q32Kernel<block_q5_1>::tile);
  set(ggml_type::Q8_0, Q32Kernel<block_q8_0>::tile);
  set(ggml_type::IQ4_NL, Q32Kernel<block_iq4_nl>::tile);
  set(ggml_type::Q2_K, KKernel<block_q2_K>::tile);
  set(ggml_type::Q3_K, KKernel<block_q3_K>::tile);
  set(ggml_type::Q4_K, KKernel<block_q4_K>::tile);
  set(ggml_type::Q5_K, KKernel<block_q5_K>::tile);
  set(ggml_type::Q6_K, KKernel<block_q6_K>::tile);
  // Tiles of kPackTokens for the packed prefill kernels, which block the row themselves (tile_packed).
  for (ggml_type t : {ggml_type::Q2_K, ggml_type::Q3_K, ggml_type::Q4_K, ggml_type::Q5_K, ggml_type::Q6_K})
    k.tile_tokens[static_cast<int>(t)] = kPackTokens;
  auto q32 = [&](ggml_type t, bool packed) {
    if (packed) k.tile_tokens[static_cast<int>(t)] = kPackTokens;
  };
  q32(ggml_type::Q4_0, q32_packed<block_q4_0>);
  q32(ggml_type::Q4_1, q32_packed<block_q4_1>);
  q32(ggml_type::Q5_0, q32_packed<block_q5_0>);
  q32(ggml_type::Q5_1, q32_packed<block_q5_1>);
  q32(ggml_type::Q8_0, q32_packed<block_q8_0>);
  q32(ggml_type::IQ4_NL, q32_packed<block_iq4_nl>);
  k.quantize_q8_32 = quantize_q8_32;
  k.quantize_q8_1 = quantize_q8_1;
  k.quantize_q8_K = quantize_q8_K;
  return k;
}
