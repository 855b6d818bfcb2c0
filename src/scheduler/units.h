// Quantities with units, for hand-written cluster files: "9.7 GiB", "3.17 GB/s", "300 Mbit/s", "5 ms",
// "60 GFLOP/s". Grammar: <number> [spaces] <unit>, the number a plain decimal (no sign, no hex, no inf/nan),
// the unit one of the exact spellings below (case matters: "Mb" would be ambiguous).
//
//   size   B kB KB MB GB TB (powers of 1000)  KiB MiB GiB TiB (powers of 1024)      -> bytes
//   rate   B/s kB/s KB/s MB/s GB/s KiB/s MiB/s GiB/s; bit/s kbit/s Mbit/s Gbit/s Mbps Gbps -> bytes/s
//   time   s ms us                                                                   -> seconds
//   flops  FLOP/s MFLOP/s GFLOP/s TFLOP/s                                            -> FLOP/s
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace prima::scheduler {

enum class Quantity { size, rate, time, flops };

// The value in base units, or nullopt with `why` set to a message naming what is wrong.
std::optional<double> parse_quantity(std::string_view text, Quantity q, std::string* why);

// "B, kB, ..." for error messages.
std::string_view unit_list(Quantity q);

}  // namespace prima::scheduler
