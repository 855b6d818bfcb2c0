// prima: run 30-70B GGUF models across the devices of a home. `prima --help` lists the subcommands.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>

#include "command.h"
#include "core/error.h"

namespace prima::app {
std::vector<Command>& commands() {
  static std::vector<Command> all;
  return all;
}
}  // namespace prima::app

int main(int argc, char** argv) {
  using namespace prima::app;
  CLI::App app{"prima: run 30-70B GGUF language models across the devices of a home", "prima"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "prima 0.1.0");

  auto& cmds = commands();
  std::sort(cmds.begin(), cmds.end(), [](const Command& a, const Command& b) { return a.order < b.order; });
  std::vector<std::pair<CLI::App*, CommandMain>> mains;
  for (const auto& c : cmds) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    mains.emplace_back(sub, c.setup(*sub));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const prima::Error& e) {
    std::fprintf(stderr, "prima: error: %s\n", e.what());
    return 2;
  }

  try {
    for (auto& [sub, fn] : mains)
      if (sub->parsed()) return fn();
  } catch (const prima::Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "prima: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fflush(stdout);
    std::fprintf(stderr, "prima: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "prima: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
