#include "profiler/estimate.h"

#include <algorithm>

namespace prima::profiler {

Estimate estimate(std::vector<double> samples) {
  Estimate e;
  if (samples.empty()) return e;
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  e.n = static_cast<int>(n);
  e.min = samples.front();
  e.max = samples.back();
  e.median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
  return e;
}

}  // namespace prima::profiler
