#include "server/stop_matcher.h"

#include <algorithm>
#include <utility>

namespace prima::server {

StopMatcher::StopMatcher(std::vector<std::string> stops) {
  for (auto& s : stops)
    if (!s.empty()) stops_.push_back(std::move(s));
}

std::string StopMatcher::push(std::string_view text) {
  if (matched_) return {};
  held_.append(text);
  if (stops_.empty()) return std::exchange(held_, {});

  // A complete stop sequence: release what precedes the earliest one and stop.
  size_t best = std::string::npos, best_len = 0;
  for (const auto& s : stops_) {
    const size_t p = held_.find(s);
    if (p != std::string::npos && (p < best || (p == best && s.size() > best_len))) {
      best = p;
      best_len = s.size();
      matched_stop_ = s;
    }
  }
  if (best != std::string::npos) {
    matched_ = true;
    std::string out = held_.substr(0, best);
    held_.clear();
    return out;
  }

  // Otherwise keep the longest tail that is a proper prefix of some stop sequence.
  size_t keep = 0;
  for (const auto& s : stops_) {
    const size_t max_j = std::min(s.size() - 1, held_.size());
    for (size_t j = max_j; j > keep; --j) {
      if (held_.compare(held_.size() - j, j, s, 0, j) == 0) {
        keep = j;
        break;
      }
    }
  }
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string StopMatcher::flush() {
  if (matched_) return {};
  return std::exchange(held_, {});
}

}  // namespace prima::server
