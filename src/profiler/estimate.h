// Repeated short measurements and what they agree on. Every figure of a profile is the median of a few
// samples; their spread says whether something else was running (other devices on the same host, a build, a
// throttled CPU quota), and a noisy figure is flagged rather than trusted silently (DESIGN.md §5).
#pragma once

#include <string>
#include <vector>

namespace prima::profiler {

struct Estimate {
  double median = 0;
  double min = 0;
  double max = 0;
  int n = 0;  // samples

  // (max - min) / median: 0 for one sample or a zero median.
  double spread() const { return n > 1 && median > 0 ? (max - min) / median : 0; }
  bool noisy(double limit) const { return spread() > limit; }
  bool valid() const { return n > 0 && median > 0; }
};

// The median (mean of the middle two for an even count), min and max of the samples; empty: all zero.
Estimate estimate(std::vector<double> samples);

// Spreads above these are reported as noisy.
inline constexpr double kNoisyCpu = 0.25;   // CPU throughput and memory bandwidth
inline constexpr double kNoisyDisk = 0.5;   // disk reads (the host's cache and other I/O move them more)
inline constexpr double kNoisyLink = 0.5;   // RTT and bandwidth of the link

}  // namespace prima::profiler
