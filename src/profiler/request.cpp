// The profiler's side of a cluster round: ProfileRequest in, ProfileReply out (profiler.h).
#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/json_depth.h"
#include "profiler/profiler.h"
#include "profiler/report.h"
#include "scheduler/profile_json.h"

namespace prima::profiler {
namespace {

using nlohmann::json;
constexpr size_t kMaxRequest = 64u << 10;

Status invalid(std::string msg) { return Status::error(Status::Code::invalid, "profile request: {}", msg); }

}  // namespace

Result<ProfileOptions> apply_request(const cluster::ProfileRequest& request, ProfileOptions o) {
  if (request.json.size() > kMaxRequest) return invalid(fmt::format("{} bytes, at most {}", request.json.size(), kMaxRequest));
  if (request.json.find_first_not_of(" \t\r\n") == std::string::npos) return o;  // empty: defaults
  // The keys are flat; '_' keys may hold a little more. Deeper nesting is refused before nlohmann recurses.
  if (json_depth(request.json, 4) > 4) return invalid("JSON nested too deeply");
  const json j = json::parse(request.json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return invalid("not a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "reprofile") {
      if (!v.is_boolean()) return invalid("reprofile: expected true or false");
      o.reprofile = v.get<bool>();
    } else if (k == "seconds") {
      if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0.2 || v.get<double>() > 60)
        return invalid("seconds: expected a number in 0.2..60");
      o.seconds = v.get<double>();
    } else if (k == "threads") {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 1024)
        return invalid("threads: expected an integer in 0..1024");
      o.threads = static_cast<int>(v.get<int64_t>());
    } else if (k == "name") {
      if (!v.is_string()) return invalid("name: expected a string");
      const auto& n = v.get_ref<const std::string&>();
      if (n.empty() || n.size() > 64 || device_name_from(n) != n)
        return invalid("name: expected 1-64 characters of A-Z a-z 0-9 . _ -");
      o.name = n;
    } else if (k != "comment" && k.rfind('_', 0) != 0) {
      return invalid(fmt::format("unknown key '{}' (expected reprofile, seconds, threads, name)", k.substr(0, 64)));
    }
  }
  return o;
}

cluster::ProfileRequest make_request(bool reprofile, double seconds) {
  return {json{{"reprofile", reprofile}, {"seconds", seconds}}.dump()};
}

cluster::ProfileReply make_reply(const ProfileReport& report) { return {report_json(report).dump()}; }

Result<scheduler::DeviceProfile> parse_reply(const cluster::ProfileReply& reply, std::string_view source) {
  try {
    return scheduler::parse_device_json(reply.json, source);
  } catch (const Error& e) {
    return Status::error(Status::Code::invalid, "{}", e.what());
  }
}

}  // namespace prima::profiler
