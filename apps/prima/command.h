// Subcommand registry: each cmd_<name>.cpp registers itself with PRIMA_COMMAND, so adding a subcommand
// never touches main.cpp. A command's setup adds its options to the CLI11 sub-app and returns the function
// that runs it (after parsing); that function returns the process exit code. Errors at the edge throw
// prima::Error and become "prima: error: ..." with exit code 1.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace prima::app {

using CommandMain = std::function<int()>;
using CommandSetup = CommandMain (*)(CLI::App& sub);

struct Command {
  std::string name;
  std::string help;
  CommandSetup setup;
  int order;  // position in `prima --help`
};

std::vector<Command>& commands();

struct CommandRegistration {
  CommandRegistration(const char* name, const char* help, CommandSetup setup, int order) {
    commands().push_back({name, help, setup, order});
  }
};

#define PRIMA_COMMAND(ident, name, help, order, setup_fn) \
  static ::prima::app::CommandRegistration prima_command_##ident(name, help, setup_fn, order)

}  // namespace prima::app
