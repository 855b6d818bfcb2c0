// The built-in web page served at "/": a chat with streaming answers and a live view of the cluster's devices.
// Its source is web/index.html (plain HTML/JS, no external resources), embedded at build time by embed.cmake.
#pragma once

#include <string_view>

namespace prima::server {

std::string_view web_page();

}  // namespace prima::server
