// Human-readable numbers for logs and tables.
#pragma once

#include <cstdint>
#include <string>

namespace prima {

std::string format_bytes(uint64_t n);  // "1.50 GiB", "512.0 KiB", "17 B"
std::string format_count(uint64_t n);  // "8.03 B", "1.2 M" (parameter counts)

}  // namespace prima
