#include "scheduler/units.h"

#include <array>
#include <charconv>
#include <cmath>
#include <utility>

namespace prima::scheduler {
namespace {

struct Unit {
  std::string_view name;
  double scale;
};

constexpr std::array kSize = {
    Unit{"B", 1},
    Unit{"kB", 1e3},
    Unit{"KB", 1e3},
    Unit{"MB", 1e6},
    Unit{"GB", 1e9},
    Unit{"TB", 1e12},
    Unit{"KiB", 1024.0},
    Unit{"MiB", 1048576.0},
    Unit{"GiB", 1073741824.0},
    Unit{"TiB", 1099511627776.0},
};
constexpr std::array kRate = {
    Unit{"B/s", 1},       Unit{"kB/s", 1e3},     Unit{"KB/s", 1e3},        Unit{"MB/s", 1e6},
    Unit{"GB/s", 1e9},    Unit{"KiB/s", 1024.0}, Unit{"MiB/s", 1048576.0}, Unit{"GiB/s", 1073741824.0},
    Unit{"bit/s", 0.125}, Unit{"kbit/s", 125.0}, Unit{"Mbit/s", 125e3},    Unit{"Gbit/s", 125e6},
    Unit{"Mbps", 125e3},  Unit{"Gbps", 125e6},
};
constexpr std::array kTime = {Unit{"s", 1}, Unit{"ms", 1e-3}, Unit{"us", 1e-6}};
constexpr std::array kFlops = {Unit{"FLOP/s", 1}, Unit{"MFLOP/s", 1e6}, Unit{"GFLOP/s", 1e9}, Unit{"TFLOP/s", 1e12}};

template <size_t N>
std::optional<double> find_scale(const std::array<Unit, N>& units, std::string_view name) {
  for (const auto& u : units)
    if (u.name == name) return u.scale;
  return std::nullopt;
}

std::optional<double> scale_of(Quantity q, std::string_view unit) {
  switch (q) {
    case Quantity::size:
      return find_scale(kSize, unit);
    case Quantity::rate:
      return find_scale(kRate, unit);
    case Quantity::time:
      return find_scale(kTime, unit);
    case Quantity::flops:
      return find_scale(kFlops, unit);
  }
  return std::nullopt;
}

}  // namespace

std::string_view unit_list(Quantity q) {
  switch (q) {
    case Quantity::size:
      return "B, kB, KB, MB, GB, TB, KiB, MiB, GiB, TiB";
    case Quantity::rate:
      return "B/s, kB/s, KB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s, bit/s, kbit/s, Mbit/s, Gbit/s, Mbps, Gbps";
    case Quantity::time:
      return "s, ms, us";
    case Quantity::flops:
      return "FLOP/s, MFLOP/s, GFLOP/s, TFLOP/s";
  }
  return "";
}

std::optional<double> parse_quantity(std::string_view text, Quantity q, std::string* why) {
  auto fail = [&](std::string msg) -> std::optional<double> {
    if (why) *why = std::move(msg);
    return std::nullopt;
  };
  if (text.size() > 64) return fail("too long for a quantity");
  size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) return fail("expected a number followed by a unit, like \"4 GiB\"");
  double v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, v, std::chars_format::fixed);
  if (ec != std::errc() || ptr != text.data() + i || !std::isfinite(v)) return fail("bad number");
  while (i < text.size() && text[i] == ' ') ++i;
  const std::string_view unit = text.substr(i);
  if (unit.empty()) return fail(std::string("missing unit (one of ") + std::string(unit_list(q)) + ")");
  const auto scale = scale_of(q, unit);
  if (!scale)
    return fail("unknown unit '" + std::string(unit) + "' (expected one of " + std::string(unit_list(q)) + ")");
  return v * *scale;
}

}  // namespace prima::scheduler
