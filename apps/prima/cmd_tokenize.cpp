// prima tokenize -m MODEL (-p TEXT | --file PATH) [--ids] [--bos] [--parse-special]: the token ids of a
// text under the model's vocabulary. Default output: one line per token, "<id> -> '<piece>'" (bytes that
// are not printable UTF-8 shown as \xNN); --ids: the ids only, space-separated on one line. BOS/EOS are
// added (as the model wants them) only with --bos.
#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <memory>

#include "command.h"
#include "core/error.h"
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace prima::app {
namespace {

struct TokenizeOptions {
  std::string model, prompt, file;
  bool ids = false, bos = false, parse_special = false;
};

// A piece for display: valid UTF-8 kept, control characters and invalid bytes escaped.
std::string printable(std::string_view p) {
  std::string out;
  for (size_t i = 0; i < p.size();) {
    const unsigned char c = static_cast<unsigned char>(p[i]);
    if (c == '\n') out += "\\n", ++i;
    else if (c == '\t') out += "\\t", ++i;
    else if (c == '\r') out += "\\r", ++i;
    else if (c < 0x20 || c == 0x7F) out += fmt::format("\\x{:02x}", c), ++i;
    else if (c < 0x80) out.push_back(static_cast<char>(c)), ++i;
    else {
      const std::string_view rest = p.substr(i, 4);
      const std::string clean = tokenizer::unicode::sanitize(rest.substr(0, tokenizer::unicode::len_from_lead(c)));
      const size_t n = static_cast<size_t>(tokenizer::unicode::len_from_lead(c));
      if (n <= rest.size() && clean == rest.substr(0, n)) {
        out.append(rest.substr(0, n));
        i += n;
      } else {
        out += fmt::format("\\x{:02x}", c);
        ++i;
      }
    }
  }
  return out;
}

CommandMain setup(CLI::App& sub) {
  auto o = std::make_shared<TokenizeOptions>();
  sub.add_option("-m,--model", o->model, "GGUF model (or vocab-only) file")->required();
  auto* p = sub.add_option("-p,--prompt", o->prompt, "text to tokenize");
  auto* f = sub.add_option("--file", o->file, "read the text from this file (exact bytes)");
  p->excludes(f);
  sub.add_flag("--ids", o->ids, "print only the ids, space-separated on one line");
  sub.add_flag("--bos", o->bos, "add BOS (and EOS) as the model wants them");
  sub.add_flag("--parse-special", o->parse_special, "recognise special-token text such as <|im_start|>");
  return [o, p, f]() {
    if (p->count() == 0 && f->count() == 0) fail("tokenize: give the text with -p TEXT or --file PATH");
    std::string text = o->prompt;
    if (f->count() > 0) {
      std::ifstream in(o->file, std::ios::binary);
      PRIMA_CHECK(in.good(), "tokenize: cannot open '{}'", o->file);
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      PRIMA_CHECK(!in.bad(), "tokenize: cannot read '{}'", o->file);
    }
    const auto file = gguf::File::open(o->model);
    const auto tok = tokenizer::Tokenizer::from_gguf(file);
    const auto ids = tok->encode(text, o->bos, o->parse_special);
    if (o->ids) {
      std::string line;
      for (auto id : ids) {
        if (!line.empty()) line.push_back(' ');
        line += std::to_string(id);
      }
      fmt::print("{}\n", line);
    } else {
      for (auto id : ids) fmt::print("{:>6} -> '{}'\n", id, printable(tok->piece_view(id, true)));
    }
    return 0;
  };
}

}  // namespace
PRIMA_COMMAND(tokenize, "tokenize", "Show the token ids of a text under a model's vocabulary", 80, setup);
}  // namespace prima::app
