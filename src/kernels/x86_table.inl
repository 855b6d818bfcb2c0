// The kernel table of one x86 instruction set (the includer compiles this file with that set's flags).

static IsaKernels make_table() {
  IsaKernels k{};
  auto set = [&](ggml_type t, TileFn f) { k.tile[static_cast<int>(t)] = f; };
  set(ggml_type::F32, tile_impl<FloatKernel<F32W>>);
  set(ggml_type::F16, tile_impl<FloatKernel<F16W>>);
  set(ggml_type::BF16, tile_impl<FloatKernel<BF16W>>);
  set(ggml_type::Q4_0, tile_impl<Q32Kernel<block_q4_0>>);
  set(ggml_type::Q4_1, tile_impl<Q32Kernel<block_q4_1>>);
  set(ggml_type::Q5_0, tile_impl<Q32Kernel<block_q5_0>>);
  set(ggml_type::Q5_1, tile_impl<Q32Kernel<block_q5_1>>);
  set(ggml_type::Q8_0, tile_impl<Q32Kernel<block_q8_0>>);
  set(ggml_type::IQ4_NL, tile_impl<Q32Kernel<block_iq4_nl>>);
  set(ggml_type::Q2_K, tile_impl<KKernel<block_q2_K>>);
  set(ggml_type::Q3_K, tile_impl<KKernel<block_q3_K>>);
  set(ggml_type::Q4_K, tile_impl<KKernel<block_q4_K>>);
  set(ggml_type::Q5_K, tile_impl<KKernel<block_q5_K>>);
  set(ggml_type::Q6_K, tile_impl<KKernel<block_q6_K>>);
  k.quantize_q8_32 = quantize_q8_32;
  k.quantize_q8_1 = quantize_q8_1;
  k.quantize_q8_K = quantize_q8_K;
  return k;
}
