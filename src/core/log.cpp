#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace prima::log {
namespace {
std::atomic<Level> g_level{Level::info};
std::mutex g_mutex;
std::string g_device;  // guarded by g_mutex
}  // namespace

void set_level(Level l) { g_level.store(l, std::memory_order_relaxed); }
Level level() { return g_level.load(std::memory_order_relaxed); }

void set_device_name(std::string name) {
  std::lock_guard lock(g_mutex);
  g_device = std::move(name);
}

void write(Level l, std::string_view msg) {
  static const char* const tags[] = {"debug", "info", "warn", "error", ""};
  std::lock_guard lock(g_mutex);
  if (g_device.empty()) {
    std::fprintf(stderr, "prima %s: %.*s\n", tags[static_cast<int>(l)], static_cast<int>(msg.size()), msg.data());
  } else {
    std::fprintf(stderr, "prima[%s] %s: %.*s\n", g_device.c_str(), tags[static_cast<int>(l)],
                 static_cast<int>(msg.size()), msg.data());
  }
}

}  // namespace prima::log
