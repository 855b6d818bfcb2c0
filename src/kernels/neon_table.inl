// The quantized entries of a NEON kernel table (the includer has included neon_gemm_q32.inl and neon_gemm_k.inl,
// compiled with or without SDOT).

static void set_quantized_tiles(IsaKernels& k) {
  auto set = [&](ggml_type t, TileFn f) { k.tile[static_cast<int>(t)] = f; };
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
}
