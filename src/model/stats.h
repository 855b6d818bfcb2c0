// Model statistics for the scheduler, from a GGUF file: bytes per block (per tensor type), the head's input
// and output layers, FLOPs per token, KV cache and hidden-state bytes. The result is scheduler::ModelStats
// (plain data, header-only: this module does not link the scheduler).
//
// Tensors are grouped by GGUF name: blk.<il>.* belong to block il; token_embd.weight is the input layer;
// output.weight and output_norm.* the output layer (with output.weight absent the output is tied to
// token_embd.weight, which the head then reads whole every token); anything else is "other" (rope_freqs,
// ...). FLOPs count one multiply-add per weight of every matrix (2-D tensor) per token; 1-D tensors (norms,
// biases) count bytes only. Hyperparameters come from <arch>.block_count, .embedding_length,
// .attention.head_count(_kv), .attention.key_length, .feed_forward_length and .context_length, where
// <arch> is general.architecture; any architecture with these keys works (llama, qwen2, ...).
#pragma once

#include "gguf/gguf.h"
#include "scheduler/model_stats.h"

namespace prima::model {

// Throws prima::Error "<path>: ..." when the file lacks what a transformer needs (architecture, block count,
// embedding length, head count, token_embd.weight), has a tensor of a block beyond the block count, or a
// block with no tensors. The KV cache is counted at kv_type_bytes per element (2: f16).
scheduler::ModelStats compute_stats(const gguf::File& file, uint64_t kv_type_bytes = 2);

}  // namespace prima::model
