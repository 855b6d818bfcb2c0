// libFuzzer target: the GGUF reader on arbitrary bytes. Every input either parses — and then every metadata
// value, array and tensor view can be read without touching memory outside the input — or throws prima::Error
// with a message. Any other exception, a crash, an out-of-bounds read (ASan) or undefined behaviour (UBSan) is
// a bug. Seeds: the fixture models' headers (PRIMA_FUZZ_SEEDS=DIR writes them, see docs/fuzzing.md).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>

#include "core/error.h"
#include "gguf/gguf.h"

namespace {

void write_seeds(const char* dir) {
  int n = 0;
  const std::string fixtures = std::string(PRIMA_FIXTURES_DIR) + "/models";
  for (const auto& e : std::filesystem::directory_iterator(fixtures)) {
    if (e.path().extension() != ".gguf") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto f = prima::gguf::File::parse({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "seed");
    // The header and the first bytes of the data: big enough to hold every structure, small enough to mutate.
    const size_t keep = std::min<size_t>(bytes.size(), f.data_offset() + 256);
    std::ofstream(std::string(dir) + "/" + e.path().stem().string(), std::ios::binary).write(bytes.data(), static_cast<long>(keep));
    ++n;
  }
  std::fprintf(stderr, "wrote %d seeds\n", n);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("PRIMA_FUZZ_SEEDS")) {
    write_seeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto f = prima::gguf::File::parse({data, size}, "fuzz.gguf");
    uint64_t sink = 0;
    for (const auto& [key, v] : f.kv()) {
      sink += key.size() + v.to_string(4).size();
      if (v.type == prima::gguf::ValueType::array && v.raw) {
        try {
          sink += f.get_f32_array(key).size();
        } catch (const prima::Error&) {
        }
      }
    }
    for (const auto& t : f.tensors()) {
      // The data of every tensor lies inside the input: read its first and last byte.
      if (t.size > 0) sink += t.data[0] + t.data[t.size - 1];
      sink += static_cast<uint64_t>(t.n_rows());
    }
    if (sink == 0x5eed) std::fputc(' ', stderr);  // keep the reads
  } catch (const prima::Error&) {
  }
  return 0;
}
