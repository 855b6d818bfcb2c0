// libFuzzer target for the wire protocol decoder (src/cluster/protocol.h): any bytes must decode to a Message or a
// Status — never a crash, an exception, an out-of-bounds read or a huge allocation — and whatever decodes must
// re-encode to a frame that decodes again to the same bytes.
//
// PRIMA_FUZZ_SEEDS=DIR ./fuzz_protocol  writes one encoded sample of every message type into DIR and exits.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cluster/protocol.h"
#include "samples.h"

using namespace prima::cluster;

namespace {

void write_seeds(const char* dir) {
  std::vector<Message> msgs;
  for (const Body& b : testing::sample_bodies()) msgs.push_back(Message{1, kVersionMinor, 0, b});
  auto a32 = testing::sample_activations(3, 8, WireType::f32);
  auto a16 = testing::sample_activations(2, 5, WireType::f16);
  msgs.push_back(Message{2, kVersionMinor, 0, a32.a});
  msgs.push_back(Message{3, kVersionMinor, 0, a16.a});
  int n = 0;
  for (const auto& m : msgs) {
    const auto bytes = encode(m);
    const std::string path = std::string(dir) + "/seed_" + std::to_string(n++) + "_" +
                             std::string(msg_type_name(m.type()));
    if (FILE* f = std::fopen(path.c_str(), "wb")) {
      std::fwrite(bytes.data(), 1, bytes.size(), f);
      std::fclose(f);
    }
  }
  std::printf("wrote %d seeds to %s\n", n, dir);
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
  auto m = decode({data, size});
  if (!m) {
    if (m.status().message().empty()) std::abort();
    return 0;
  }
  if (const auto* a = m->as<Activations>()) {
    std::vector<float> out(size_t{a->n_tokens} * a->n_embd);
    a->to_f32(out);
  }
  (void)describe(*m);
  const auto bytes = encode(*m);
  if (encoded_size(*m) != bytes.size()) std::abort();
  auto again = decode(bytes);
  if (!again) {
    std::fprintf(stderr, "re-encoded %s does not decode: %s\n", std::string(msg_type_name(m->type())).c_str(),
                 again.status().message().c_str());
    std::abort();
  }
  if (encode(*again) != bytes) std::abort();
  return 0;
}
