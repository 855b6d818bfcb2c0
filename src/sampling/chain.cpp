#include "sampling/chain.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace prima::sampling {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

float max_logit(const Candidates& c) {
  if (c.n_sorted > 0) return c.items.front().logit;
  float m = -kInf;
  for (const Candidate& x : c.items) m = std::max(m, x.logit);
  return m;
}

// Makes items[0, m) the top m candidates in rank order, extending the sorted prefix that is already there
// (everything after it ranks below it, so only the rest needs selecting).
void sort_prefix(Candidates& c, size_t m) {
  m = std::min(m, c.items.size());
  if (m <= c.n_sorted) return;
  const auto first = c.items.begin() + static_cast<ptrdiff_t>(c.n_sorted);
  const auto mid = c.items.begin() + static_cast<ptrdiff_t>(m);
  const auto last = c.items.end();
  if (mid == last) {
    std::sort(first, last, ranks_before);
  } else if ((m - c.n_sorted) * 64 <= c.items.size() - c.n_sorted) {
    // A few out of many (top-k 40 of 150k): heap selection touches each loser once, with one compare.
    std::partial_sort(first, mid, last, ranks_before);
  } else {
    std::nth_element(first, mid, last, ranks_before);
    std::sort(first, mid, ranks_before);
  }
  c.n_sorted = m;
}

// Heap selection straight from the logits: items is a heap whose front is the worst of the best k so far;
// a logit enters only if it beats that one (on a tie the one already there has the lower id and stays).
// For logits in random order that is one comparison per logit and about k * ln(n / k) heap operations.
void select_top_k(Candidates& c, std::span<const float> logits, size_t k) {
  for (size_t i = 0; i < logits.size(); ++i) {
    const float l = logits[i];
    if (!(l > -kInf)) continue;  // NaN or -inf
    if (c.items.size() < k) {
      c.items.push_back({static_cast<int32_t>(i), l});
      std::push_heap(c.items.begin(), c.items.end(), ranks_before);
    } else if (l > c.items.front().logit) {
      std::pop_heap(c.items.begin(), c.items.end(), ranks_before);
      c.items.back() = {static_cast<int32_t>(i), l};
      std::push_heap(c.items.begin(), c.items.end(), ranks_before);
    }
  }
  std::sort_heap(c.items.begin(), c.items.end(), ranks_before);
  c.n_sorted = c.items.size();
  // +inf rule: the infinite ones rank first; keep only them, as equals (still sorted: ties go by id).
  if (!c.items.empty() && c.items.front().logit == kInf) {
    std::erase_if(c.items, [](const Candidate& x) { return x.logit != kInf; });
    for (Candidate& x : c.items) x.logit = 0.0f;
    c.n_sorted = c.items.size();
  }
}

}  // namespace

size_t fill_candidates(Candidates& c, std::span<const float> logits, int32_t top_k) {
  c.items.clear();
  c.n_sorted = 0;
  const auto k = static_cast<size_t>(std::max(top_k, 0));
  if (k > 0 && k * 64 <= logits.size()) {
    select_top_k(c, logits, k);
    return c.items.size();
  }
  size_t n_pos_inf = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float l = logits[i];
    if (!(l > -kInf)) continue;  // NaN or -inf
    c.items.push_back({static_cast<int32_t>(i), l});
    n_pos_inf += l == kInf;
  }
  if (n_pos_inf > 0) {
    std::erase_if(c.items, [](const Candidate& x) { return x.logit != kInf; });
    for (Candidate& x : c.items) x.logit = 0.0f;
    c.n_sorted = c.items.size();  // equals in id order: rank order
  }
  keep_top_k(c, top_k);
  return c.items.size();
}

int32_t argmax(std::span<const float> logits) {
  // The max first, in 16 independent lanes (no loop-carried branch), then its first position.
  // `x > m ? x : m` is false for NaN, so NaN never becomes the max.
  constexpr size_t kLanes = 16;
  float lane_max[kLanes];
  std::fill(std::begin(lane_max), std::end(lane_max), -kInf);
  const size_t n = logits.size();
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) lane_max[j] = logits[i + j] > lane_max[j] ? logits[i + j] : lane_max[j];
  }
  float best = -kInf;
  for (float m : lane_max) best = m > best ? m : best;
  for (; i < n; ++i) best = logits[i] > best ? logits[i] : best;
  if (!(best > -kInf)) return -1;  // every logit NaN or -inf
  for (size_t k = 0; k < n; ++k) {
    if (logits[k] == best) return static_cast<int32_t>(k);  // the lowest id among ties
  }
  return -1;  // unreachable: best is one of the logits
}

void keep_top_k(Candidates& c, int32_t k) {
  if (k <= 0) return;
  const size_t n_keep = std::min(static_cast<size_t>(k), c.items.size());
  sort_prefix(c, n_keep);
  c.items.resize(n_keep);
  c.n_sorted = n_keep;  // the prefix may have been longer than what is kept
}

void keep_top_p(Candidates& c, float p) {
  if (p >= 1.0f || c.items.size() <= 1) return;
  if (!c.sorted() && c.items.size() <= 1024) sort_prefix(c, c.items.size());  // small: sorting is cheapest
  const float max = max_logit(c);
  double total = 0.0;  // softmax denominator, relative to the max logit

  if (c.sorted()) {
    for (const Candidate& x : c.items) total += std::exp(x.logit - max);
    const double target = static_cast<double>(p) * total;
    double cum = 0.0;
    size_t n_keep = 0;
    while (n_keep < c.items.size()) {
      cum += std::exp(c.items[n_keep++].logit - max);
      if (cum >= target) break;
    }
    c.items.resize(n_keep);
    c.n_sorted = n_keep;
    return;
  }

  // Bucket b holds logits in (max - (b+1)/scale, max - b/scale]; the last one also everything further
  // down than kRange below the max, whose mass (< e^-64 each) cannot decide where the nucleus ends.
  constexpr float kRange = 64.0f;
  float min = max;
  for (const Candidate& x : c.items) min = std::min(min, x.logit);
  const float range = std::min(max - min, kRange);
  const float scale = range > 0.0f ? static_cast<float>(kTopPBuckets - 1) / range : 0.0f;
  const auto bucket = [max, range, scale](float logit) {
    const float d = max - logit;  // >= 0; may be +inf for huge finite logits
    return d < range ? static_cast<size_t>(d * scale) : kTopPBuckets - 1;
  };

  c.bucket_mass.assign(kTopPBuckets, 0.0);
  for (const Candidate& x : c.items) {
    const float w = std::exp(x.logit - max);
    total += w;
    c.bucket_mass[bucket(x.logit)] += w;
  }
  const double target = static_cast<double>(p) * total;
  double cum = 0.0;  // mass of the buckets above `cut`
  size_t cut = 0;
  for (; cut < kTopPBuckets; ++cut) {
    if (cum + c.bucket_mass[cut] >= target) break;
    cum += c.bucket_mass[cut];
  }
  if (cut == kTopPBuckets) return;  // only rounding: keep everything

  // Keep the buckets above the cut (stably, in place), set the cut bucket aside, sort it, take its head.
  if (c.spill.capacity() < c.items.size()) c.spill.reserve(c.items.capacity());
  c.spill.clear();
  size_t n_keep = 0;
  for (size_t i = 0; i < c.items.size(); ++i) {
    const Candidate x = c.items[i];
    const size_t b = bucket(x.logit);
    if (b < cut) {
      c.items[n_keep++] = x;
    } else if (b == cut) {
      c.spill.push_back(x);
    }
  }
  const size_t n_above = n_keep;
  std::sort(c.spill.begin(), c.spill.end(), ranks_before);
  for (const Candidate& x : c.spill) {
    c.items[n_keep++] = x;
    cum += std::exp(x.logit - max);
    if (cum >= target) break;
  }
  c.items.resize(n_keep);
  c.n_sorted = n_above == 0 ? n_keep : 0;
}

void keep_min_p(Candidates& c, float p) {
  if (p <= 0.0f || c.items.size() <= 1) return;
  const float min_logit = max_logit(c) + std::log(p);
  const auto keep = [min_logit](const Candidate& x) { return x.logit >= min_logit; };
  // The sorted prefix loses only its tail, so what stays of it is still the sorted top.
  const auto prefix_end = c.items.begin() + static_cast<ptrdiff_t>(c.n_sorted);
  const size_t n_sorted_kept = static_cast<size_t>(std::partition_point(c.items.begin(), prefix_end, keep) -
                                                   c.items.begin());
  std::erase_if(c.items, [&](const Candidate& x) { return !keep(x); });  // stable
  c.n_sorted = n_sorted_kept;
}

Sample draw(const Candidates& c, float temperature, double u, std::vector<float>& weights) {
  PRIMA_ASSERT(!c.items.empty() && temperature > 0.0f);
  const float max = max_logit(c);
  const size_t n = c.items.size();
  weights.resize(n);  // weights[i] = exp((logit_i - max) / T), in (0, 1]; the max has 1
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) {
    weights[i] = std::exp((c.items[i].logit - max) / temperature);
    total += weights[i];
  }
  const double target = u * total;
  double cum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    cum += weights[i];
    if (target < cum) return {c.items[i].id, static_cast<float>(weights[i] / total)};
  }
  // Only rounding gets here (u * total rounded up to total): the last candidate with any weight.
  for (size_t i = n; i-- > 0;) {
    if (weights[i] > 0.0f) return {c.items[i].id, static_cast<float>(weights[i] / total)};
  }
  assert_fail("a candidate with weight > 0", __FILE__, __LINE__);  // the max logit has weight 1
}

}  // namespace prima::sampling
