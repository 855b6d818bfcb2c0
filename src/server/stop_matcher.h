// Stop sequences over streamed text. The generated text arrives in pieces; a client must never see any part of
// a stop sequence, not even the first bytes of one that later turns out to be there. So the matcher holds back
// the longest tail of the text that is still the beginning of some stop sequence, and releases it as soon as the
// next piece shows it is not.
//
//   StopMatcher m({"\n\n", "User:"});
//   out += m.push(piece);  ...            // safe text, in order
//   if (m.matched()) ...                   // the text before the first stop sequence has been returned; stop
//   out += m.flush();                      // at the end of generation (no match): whatever was held back
//
// Matching is on bytes. The earliest occurrence wins (the longer stop sequence when two start at the same byte).
// Text held back never exceeds the longest stop sequence minus one byte.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace prima::server {

class StopMatcher {
 public:
  StopMatcher() = default;
  explicit StopMatcher(std::vector<std::string> stops);  // empty strings are ignored

  // Appends generated text; returns the part that can no longer belong to a stop sequence. After a match,
  // returns the text up to the stop sequence once, then "" for every further push.
  std::string push(std::string_view text);
  // Everything held back (call when generation ends without a match).
  std::string flush();

  bool matched() const { return matched_; }
  const std::string& matched_stop() const { return matched_stop_; }
  size_t held() const { return held_.size(); }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool matched_ = false;
  std::string matched_stop_;
};

}  // namespace prima::server
