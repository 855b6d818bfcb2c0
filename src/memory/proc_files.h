// Reading the small text files of /proc and /sys (cgroup files, meminfo, status, io). Their content is
// treated as untrusted: numbers are parsed strictly (digits only, overflow checked) and a file that is
// missing, unreadable or garbage yields nullopt, never an exception.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace prima::memory {

// Text helpers for those files. split: every field between `sep`s (empty ones included); words: the non-empty
// runs between spaces and tabs; trim: without surrounding spaces, tabs, newlines; has_token: `token` is one of
// the comma-separated items of `list`.
std::vector<std::string_view> split(std::string_view s, char sep);
std::vector<std::string_view> words(std::string_view s);
std::string_view trim(std::string_view s);
bool has_token(std::string_view list, std::string_view token);

// The whole file (at most `max_bytes`); nullopt when it cannot be read.
std::optional<std::string> read_text(const std::string& path, size_t max_bytes = 1 << 20);

// A decimal number, surrounding whitespace allowed; nullopt for anything else (sign, garbage, overflow).
std::optional<uint64_t> parse_u64(std::string_view s);

// The number on the line "KEY VALUE", "KEY: VALUE" or "KEY:   VALUE kB" (meminfo, memory.stat, status, io).
// A "kB" unit multiplies by 1024. nullopt when the key is absent or its value does not parse.
std::optional<uint64_t> find_field(std::string_view text, std::string_view key);

}  // namespace prima::memory
