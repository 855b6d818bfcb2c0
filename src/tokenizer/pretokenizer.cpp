// Pre-tokenizer regex lists (the patterns llama.cpp uses for each `tokenizer.ggml.pre`) run with PCRE2.
#include "tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>

#include "core/error.h"
#include "core/log.h"
#include "tokenizer/unicode.h"

namespace prima::tokenizer {

namespace {

// ---- patterns (facts: the expressions each pre-tokenizer family uses) ----

// GPT-2.
constexpr const char* kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
// Llama 3 (the case-insensitive contraction group spelled out, as llama.cpp does).
constexpr const char* kLlama3 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Qwen 2: like Llama 3 but single digits.
constexpr const char* kQwen2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// DeepSeek LLM: cased letters of many scripts, ASCII/full-width punctuation, CJK + Hangul.
constexpr const char* kDeepseekLetters =
    R"(\s?[\x{41}-\x{5A}\x{61}-\x{7A}\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293})"
    R"(\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C})"
    R"(\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5})"
    R"(\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77})"
    R"(\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57})"
    R"(\x{1F59}\x{1F5B}\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4})"
    R"(\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC})"
    R"(\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D})"
    R"(\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B})"
    R"(\x{2C7E}-\x{2CE4}\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F})"
    R"(\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A})"
    R"(\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2})"
    R"(\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+)";
constexpr const char* kDeepseekPunct = R"(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)";
constexpr const char* kDeepseekCjk = R"([\x{4E00}-\x{9FA5}\x{0800}-\x{4E00}\x{AC00}-\x{D7FF}]+)";
constexpr const char* kPoro = R"( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{0964}\x{06D4}\x{060C})]+)";
constexpr const char* kTekken =
    R"([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kGpt4o =
    R"([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

struct Family {
  PreTokenizerInfo info;
  std::vector<const char*> aliases;  // values of tokenizer.ggml.pre
  std::vector<const char*> regexes;
};

const std::vector<Family>& families() {
  static const std::vector<Family> all = {
      {{"default"}, {"default"}, {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"}},
      {{"llama3", true, true}, {"llama3", "llama-v3", "llama-bpe", "falcon3"}, {kLlama3}},
      {{"dbrx"}, {"dbrx", "smaug-bpe"}, {kLlama3}},
      {{"deepseek-llm", false, false, false},
       {"deepseek-llm"},
       {"[\r\n]", kDeepseekLetters, kDeepseekPunct, R"(\s+$)", kDeepseekCjk, R"(\p{N}+)"}},
      {{"deepseek-coder", false, false, false},
       {"deepseek-coder"},
       {"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kDeepseekCjk, R"(\p{N})"}},
      {{"deepseek-v3", false, false, false},
       {"deepseek-v3"},
       {R"(\p{N}{1,3})", R"([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)",
        R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}},
      {{"falcon"}, {"falcon"}, {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, "[0-9][0-9][0-9]"}},
      {{"starcoder"}, {"starcoder", "refact", "codeshell", "exaone", "minerva-7b"}, {R"(\p{N})", kGpt2}},
      {{"command-r", false, false, false}, {"command-r", "smollm"}, {R"(\p{N})", kGpt2}},
      {{"gpt-2"}, {"gpt-2", "phi-2", "mpt", "olmo", "jais", "jina-es", "jina-de", "jina-v1-en", "jina-v2-es",
                   "jina-v2-de", "jina-v2-code", "roberta-bpe", "gigachat"}, {kGpt2}},
      {{"qwen2", false, false, false}, {"qwen2", "deepseek-r1-qwen", "megrez"}, {kQwen2}},
      {{"stablelm2"}, {"stablelm2"}, {kQwen2}},
      {{"poro", false, false, false}, {"poro-chat"}, {kPoro}},
      {{"bloom"}, {"bloom", "gpt3-finnish"}, {kPoro}},
      {{"viking", false, false, false}, {"viking"}, {kPoro, R"(\p{N})"}},
      {{"chatglm-bpe", false, false, true, true}, {"chatglm-bpe", "glm4"}, {kLlama3}},
      {{"tekken", true, true, false}, {"tekken"}, {kTekken}},
      {{"gpt-4o", false, false, false}, {"gpt-4o", "llama4"}, {kGpt4o}},
  };
  return all;
}

}  // namespace

// A compiled PCRE2 pattern (UTF + UCP, JIT when available). Immutable after construction, so one may
// be shared by threads; each match uses per-thread match data.
class Regex {
 public:
  explicit Regex(const char* pattern) {
    int err = 0;
    PCRE2_SIZE err_off = 0;
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &err, &err_off, nullptr);
    if (!code_) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      fail("tokenizer: cannot compile pre-tokenizer regex at offset {}: {}", err_off, reinterpret_cast<char*>(msg));
    }
    jit_ = pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE) == 0;
  }
  ~Regex() { pcre2_code_free(code_); }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Splits every piece [bounds[i], bounds[i+1]) of `s` (valid UTF-8) into matches and gaps.
  void split(std::string_view s, const std::vector<size_t>& bounds, std::vector<size_t>& out) const {
    struct Scratch {
      pcre2_match_data* md = pcre2_match_data_create(4, nullptr);
      pcre2_match_context* mc = pcre2_match_context_create(nullptr);
      pcre2_jit_stack* js = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
      Scratch() { pcre2_jit_stack_assign(mc, nullptr, js); }
      ~Scratch() {
        pcre2_jit_stack_free(js);
        pcre2_match_context_free(mc);
        pcre2_match_data_free(md);
      }
    };
    thread_local Scratch scratch;
    PRIMA_ASSERT(scratch.md && scratch.mc);

    out.clear();
    out.push_back(bounds.front());
    for (size_t p = 0; p + 1 < bounds.size(); ++p) {
      const size_t base = bounds[p], len = bounds[p + 1] - base;
      const auto* subject = reinterpret_cast<PCRE2_SPTR>(s.data() + base);
      size_t start = 0, prev_end = 0;
      while (start < len) {
        int rc = pcre2_match(code_, subject, len, start, PCRE2_NO_UTF_CHECK, scratch.md, scratch.mc);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT && jit_)
          rc = pcre2_match(code_, subject, len, start, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, scratch.md, scratch.mc);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {  // resource limits: keep the rest of this piece whole rather than fail the request
          log::warn("tokenizer: pre-tokenizer regex failed ({}); keeping {} bytes unsplit", rc, len - start);
          break;
        }
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(scratch.md);
        const size_t m0 = ov[0], m1 = ov[1];
        if (m1 == m0) {  // empty match: never a piece; step one character
          start = m0 + 1;
          while (start < len && (static_cast<uint8_t>(s[base + start]) & 0xC0) == 0x80) ++start;
          continue;
        }
        if (m0 > prev_end) out.push_back(base + m0);
        out.push_back(base + m1);
        prev_end = start = m1;
      }
      if (prev_end < len) out.push_back(base + len);
    }
  }

 private:
  pcre2_code* code_ = nullptr;
  bool jit_ = false;
};

PreTokenizer::~PreTokenizer() = default;

std::vector<std::string_view> PreTokenizer::known_names() {
  std::vector<std::string_view> names;
  for (const auto& f : families())
    for (const char* a : f.aliases) names.emplace_back(a);
  return names;
}

std::unique_ptr<PreTokenizer> PreTokenizer::create(std::string_view pre) {
  const std::string_view want = pre.empty() ? "default" : pre;
  for (const auto& f : families()) {
    if (std::find(f.aliases.begin(), f.aliases.end(), want) == f.aliases.end()) continue;
    std::unique_ptr<PreTokenizer> p(new PreTokenizer());
    p->info_ = f.info;
    for (const char* r : f.regexes) p->regexes_.push_back(std::make_unique<Regex>(r));
    return p;
  }
  std::string known;
  for (auto n : known_names()) known += (known.empty() ? "" : ", ") + std::string(n);
  fail("unknown pre-tokenizer '{}' (tokenizer.ggml.pre); known: {}", pre, known);
}

void PreTokenizer::split(std::string_view text, std::vector<std::string>& words) const {
  // The code points as llama.cpp sees them, and the string the regexes match: UTF-8 of the code points
  // with non-ASCII white space as U+000B and surrogates (which PCRE2 cannot hold) as a private-use
  // character of the same class (neither letter, number, punctuation, symbol nor space).
  const std::vector<uint32_t> cpts = unicode::decode(text);
  std::string subject;
  subject.reserve(text.size());
  std::vector<uint32_t> byte_to_cpt;  // subject byte offset -> code point index (at character starts)
  byte_to_cpt.reserve(text.size() + 1);
  for (size_t i = 0; i < cpts.size(); ++i) {
    uint32_t c = cpts[i];
    if (c >= 0x80 && unicode::is_whitespace(c)) c = 0x0B;
    if (c >= 0xD800 && c <= 0xDFFF) c = 0xE000;
    unicode::append_utf8(subject, c);
    byte_to_cpt.resize(subject.size(), static_cast<uint32_t>(i));
  }
  byte_to_cpt.push_back(static_cast<uint32_t>(cpts.size()));

  std::vector<size_t> bounds = {0, subject.size()}, next;
  if (subject.empty()) return;
  for (const auto& r : regexes_) {
    r->split(subject, bounds, next);
    bounds.swap(next);
  }
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    const uint32_t c0 = byte_to_cpt[bounds[i]], c1 = byte_to_cpt[bounds[i + 1]];
    std::string w;
    for (uint32_t c = c0; c < c1; ++c) unicode::append_utf8(w, cpts[c]);
    words.push_back(std::move(w));
  }
}

}  // namespace prima::tokenizer
