// The steps of the sampler chain, as free functions over a reusable candidate set. Sampler (sampler.h)
// runs them in order; they are public so that each can be tested on crafted distributions.
//
// A candidate set holds the tokens still in the running with their logits, all finite. Its first n_sorted
// items are the best ones in rank order: descending logit, ties broken by lower id first. That tie-break
// makes the order total, so std::partial_sort / std::sort give the same result with every standard
// library. The items after the sorted prefix are in an order fixed by the steps themselves (id order,
// compacted stably), never by the library, so the draw that walks them is deterministic across platforms.
//
// Non-finite logits (defined once, here, in fill_candidates):
//   NaN and -inf    never sampled (dropped); if nothing is left, the step reports "no candidate".
//   +inf            if any logit is +inf, only the +inf tokens remain, as equals (logit 0 each): the
//                   limit of softmax as those logits grow. Greedy picks the lowest id among them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace prima::sampling {

struct Candidate {
  int32_t id;
  float logit;
};

// Descending logit, then ascending id: the one order every step agrees on.
inline bool ranks_before(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

struct Candidates {
  std::vector<Candidate> items;  // [n] reserved for n_vocab once; steps shrink it, never reallocate
  size_t n_sorted = 0;           // items[0, n_sorted) are the top n_sorted in ranks_before order

  bool sorted() const { return n_sorted == items.size(); }

  // Scratch of keep_top_p, allocated on first use and reused.
  std::vector<double> bucket_mass;  // [kTopPBuckets]
  std::vector<Candidate> spill;     // [<= n] the candidates of the bucket where the nucleus ends
};

inline constexpr size_t kTopPBuckets = 4096;

// Fills `c` from logits[n_vocab] with the rule for non-finite logits above; in id order. Returns the size.
// With top_k > 0 the result is that of keep_top_k(c, top_k) after it (sorted); when top_k is small next to
// the vocabulary it is selected in the same pass, with a bounded heap, without building the full set.
size_t fill_candidates(Candidates& c, std::span<const float> logits, int32_t top_k = 0);

// Greedy: the index of the largest logit, ties to the lowest index, NaN ignored; -1 when every logit is
// NaN or -inf.
int32_t argmax(std::span<const float> logits);

// Keeps the min(k, size) highest-ranked candidates, sorted (so after top-k the set is always in rank order).
// k <= 0: nothing changes.
void keep_top_k(Candidates& c, int32_t k);

// Nucleus: with probabilities softmax(logits) over the current set, keeps the smallest prefix in rank order
// whose probability sum reaches p (the candidate that crosses p is kept). p >= 1: nothing changes.
// A sorted set is simply walked. A large unsorted one (no top-k before) is not sorted: its probability
// mass goes into kTopPBuckets buckets by logit, the bucket where the sum crosses p is found, and only that
// bucket is sorted. What is kept above it stays in id order.
void keep_top_p(Candidates& c, float p);

// Keeps candidates whose probability is at least p times the largest one, i.e. logit >= max + log(p).
// p <= 0: nothing changes. Keeps the order (id order stays id order).
void keep_min_p(Candidates& c, float p);

// A uniform double in [0, 1) with 53 random bits from one draw of the engine. The engine's output is
// fixed by the C++ standard, and this conversion is ours: the same numbers on every platform
// (std::uniform_real_distribution differs between standard libraries).
inline double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

struct Sample {
  int32_t token = -1;
  float prob = 0.0f;  // probability of `token` in the distribution it was drawn from (1 for greedy)
};

// Draws from softmax(logit / temperature) over a non-empty set, walking the candidates in their current
// order: the first whose cumulative weight exceeds u * total. weights is scratch (reserved by the caller).
// temperature > 0, u in [0, 1).
Sample draw(const Candidates& c, float temperature, double u, std::vector<float>& weights);

}  // namespace prima::sampling
