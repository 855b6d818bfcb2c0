// Nesting depth of a JSON text, counted before parsing: nlohmann's parser recurses once per level, so every
// parser of hostile JSON (HTTP bodies, cluster files, profile caches and requests) refuses "[[[[..." with this
// first.
#pragma once

#include <climits>
#include <string_view>

namespace prima {

// The deepest nesting of '[' and '{' outside strings (escapes honoured). Stops as soon as it exceeds `limit`
// and returns that depth, so a huge hostile text is not scanned to its end.
int json_depth(std::string_view text, int limit = INT_MAX);

}  // namespace prima
