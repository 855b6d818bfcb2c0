// Chat template families: recognition by substrings, variants read from the template text, rendering.
#include "tokenizer/chat_template.h"

#include <ctime>

#include "core/error.h"
#include "gguf/gguf.h"
#include "tokenizer/unicode.h"

namespace prima::tokenizer {

namespace {

constexpr std::string_view kFamilies[] = {"llama3", "chatml", "deepseek-r1", "llama2", "mistral"};

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

// Python's str.strip(): Unicode white space (and U+001C..U+001F) from both ends.
std::string_view strip(std::string_view s) {
  auto space = [](uint32_t c) { return unicode::is_whitespace(c) || (c >= 0x1C && c <= 0x1F); };
  size_t b = 0;
  while (b < s.size()) {
    size_t off = b;
    if (!space(unicode::decode_one(s, off))) break;
    b = off;
  }
  size_t e = s.size();
  while (e > b) {  // step back one character
    size_t start = e - 1;
    while (start > b && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80 && e - start < 4) --start;
    size_t off = start;
    const uint32_t c = unicode::decode_one(s, off);
    if (off != e || !space(c)) break;
    e = start;
  }
  return s.substr(b, e - b);
}

// The text after the last "</think>" (DeepSeek-R1 / QwQ drop earlier turns' reasoning).
std::string_view after_think(std::string_view s, bool lstrip_newlines) {
  const size_t p = s.rfind("</think>");
  if (p == std::string_view::npos) return s;
  s.remove_prefix(p + 8);
  if (lstrip_newlines)
    while (!s.empty() && s.front() == '\n') s.remove_prefix(1);
  return s;
}

// Jinja string escapes \n \t \' \" \\ (as templates stored from JSON carry them) made real.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char c = s[++i];
      out.push_back(c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c);
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// A quoted literal following `prefix` (e.g. "set system_message = '"), up to the closing quote.
bool literal_after(std::string_view tmpl, std::string_view prefix, char quote, std::string& out) {
  const size_t p = tmpl.find(prefix);
  if (p == std::string_view::npos) return false;
  size_t e = p + prefix.size();
  while (e < tmpl.size() && tmpl[e] != quote) e += tmpl[e] == '\\' ? 2 : 1;
  if (e >= tmpl.size()) return false;
  out = unescape(tmpl.substr(p + prefix.size(), e - p - prefix.size()));
  return true;
}

[[noreturn]] void unknown_template(std::string_view source, std::string_view why) {
  std::string names;
  for (auto n : kFamilies) names += (names.empty() ? "" : ", ") + std::string(n);
  fail("{}: {}; choose the format with --chat-template NAME (one of: {})", source, why, names);
}

}  // namespace

std::vector<std::string_view> ChatTemplate::family_names() { return {std::begin(kFamilies), std::end(kFamilies)}; }

ChatTemplate ChatTemplate::from_gguf(const gguf::File& f, std::string_view override_name) {
  std::string bos, eos;
  if (const gguf::Value* tv = f.find("tokenizer.ggml.tokens"); tv && tv->type == gguf::ValueType::array) {
    auto text_of = [&](const char* key) -> std::string {
      const gguf::Value* v = f.find(key);
      if (!v || !v->is_integer() || v->u >= tv->strings.size()) return "";
      return std::string(tv->strings[v->u]);
    };
    bos = text_of("tokenizer.ggml.bos_token_id");
    eos = text_of("tokenizer.ggml.eos_token_id");
  }
  const auto tmpl = f.find_string("tokenizer.chat_template");
  if (!tmpl && override_name.empty())
    unknown_template(f.path(), "the model has no tokenizer.chat_template");
  return from_string(tmpl.value_or(""), std::move(bos), std::move(eos), override_name,
                     f.path() + ": tokenizer.chat_template");
}

ChatTemplate ChatTemplate::from_string(std::string_view tmpl, std::string bos_text, std::string eos_text,
                                       std::string_view override_name, std::string_view source) {
  ChatTemplate t;
  t.bos_ = std::move(bos_text);
  t.eos_ = std::move(eos_text);
  // Detection and variants look at the template with its "\n" escapes made real.
  std::string norm;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '\\' && i + 1 < tmpl.size() && tmpl[i + 1] == 'n') {
      norm.push_back('\n');
      ++i;
    } else {
      norm.push_back(tmpl[i]);
    }
  }
  std::string detected;
  if (contains(norm, "<|im_start|>"))
    detected = "chatml";
  else if (contains(norm, "<|start_header_id|>") && contains(norm, "<|end_header_id|>"))
    detected = "llama3";
  else if (contains(norm, "<\xEF\xBD\x9CUser\xEF\xBD\x9C>") && contains(norm, "<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C>"))
    detected = "deepseek-r1";
  else if (contains(norm, "[INST]"))
    detected = contains(norm, "<<SYS>>") ? "llama2" : "mistral";

  if (!override_name.empty()) {
    bool known = false;
    for (auto n : kFamilies) known |= n == override_name;
    if (!known) unknown_template(source, fmt::format("unknown chat template name '{}'", override_name));
    t.family_ = std::string(override_name);
    if (detected != t.family_) norm.clear();  // the model's template says nothing about this family
  } else {
    if (detected.empty()) unknown_template(source, "this chat template is not one prima recognises");
    t.family_ = detected;
  }

  const bool has_tmpl = !norm.empty();
  t.always_gen_prompt_ = has_tmpl && !contains(norm, "add_generation_prompt");
  if (t.family_ == "chatml") {
    if (literal_after(tmpl, "set system_message = '", '\'', t.default_system_)) {
      t.has_default_system_ = true;
    } else {
      const std::string_view head = "<|im_start|>system\n";
      for (size_t p = norm.find(head); p != std::string::npos; p = norm.find(head, p + 1)) {
        const size_t b = p + head.size(), e = norm.find("<|im_end|>", b);
        if (e == std::string::npos) break;
        const std::string_view body = std::string_view(norm).substr(b, e - b);
        if (body.find_first_of("'\"{}+") != std::string_view::npos) continue;  // not a plain literal
        t.default_system_ = std::string(body);
        t.has_default_system_ = true;
        break;
      }
    }
    t.think_prompt_ = contains(norm, "<|im_start|>assistant\n<think>\n");
    t.strip_think_ = contains(norm, "</think>");
    t.strip_think_lstrip_ = contains(norm, "split('</think>')[-1].lstrip(");
  } else if (t.family_ == "deepseek-r1") {
    // Without the model's template: the current R1 form (opens the reasoning block).
    t.think_prompt_ = !has_tmpl || contains(norm, "<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C><think>\n");
    t.strip_think_ = !has_tmpl || contains(norm, "</think>");
    t.join_systems_ = contains(norm, "is_first_sp");
  } else if (t.family_ == "mistral" && has_tmpl) {
    if (contains(norm, "' [INST] ' + system_message"))
      t.mistral_style_ = 1;
    else if (contains(norm, "' [/INST]'"))
      t.mistral_style_ = 0;
  } else if (t.family_ == "llama3") {
    // Llama 3.1+: a system header with the knowledge cut-off and the date is always written.
    if (contains(norm, "Cutting Knowledge Date: ")) {
      const size_t p = norm.find("Cutting Knowledge Date: ") + 24;
      t.default_system_ = "Cutting Knowledge Date: " + norm.substr(p, norm.find('\n', p) - p) + "\nToday Date: ";
      std::string date;
      if (!literal_after(tmpl, "set date_string = \"", '"', date)) {
        char buf[32];
        const std::time_t now = std::time(nullptr);
        std::tm tm{};
        gmtime_r(&now, &tm);
        std::strftime(buf, sizeof buf, "%d %b %Y", &tm);
        date = buf;
      }
      t.default_system_ += date + "\n\n";
      t.has_default_system_ = true;
    }
  }
  return t;
}

std::string ChatTemplate::render(std::span<const ChatMessage> msgs, bool add_generation_prompt) const {
  const bool gen = add_generation_prompt || always_gen_prompt_;
  std::string out;
  if (family_ == "llama3") {
    auto turn = [&](std::string_view role, std::string_view content) {
      out += "<|start_header_id|>";
      out += role;
      out += "<|end_header_id|>\n\n";
      out += content;
      out += "<|eot_id|>";
    };
    out += bos_;
    size_t first = 0;
    if (has_default_system_) {  // 3.1 form: the system header always comes first
      std::string sys = default_system_;
      if (!msgs.empty() && msgs[0].role == "system") sys += strip(msgs[first++].content);
      turn("system", sys);
    }
    for (size_t i = first; i < msgs.size(); ++i) turn(msgs[i].role, strip(msgs[i].content));
    if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  } else if (family_ == "chatml") {
    size_t first = 0;
    if (!msgs.empty() && msgs[0].role == "system") {
      out += "<|im_start|>system\n" + msgs[0].content + "<|im_end|>\n";
      first = 1;
    } else if (has_default_system_) {
      out += "<|im_start|>system\n" + default_system_ + "<|im_end|>\n";
    }
    for (size_t i = first; i < msgs.size(); ++i) {
      std::string_view content = msgs[i].content;
      if (msgs[i].role == "assistant" && strip_think_) content = after_think(content, strip_think_lstrip_);
      out += "<|im_start|>" + msgs[i].role + "\n";
      out += content;
      out += "<|im_end|>\n";
    }
    if (gen) out += think_prompt_ ? "<|im_start|>assistant\n<think>\n" : "<|im_start|>assistant\n";
  } else if (family_ == "deepseek-r1") {
    std::string system;
    bool first_sp = true;
    for (const auto& m : msgs) {
      if (m.role != "system") continue;
      if (join_systems_ && !first_sp) system += "\n\n" + m.content;
      else system = join_systems_ ? system + m.content : m.content;
      first_sp = false;
    }
    out += bos_ + system;
    for (const auto& m : msgs) {
      if (m.role == "user") {
        out += "<\xEF\xBD\x9CUser\xEF\xBD\x9C>" + m.content;
      } else if (m.role == "assistant") {
        out += "<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C>";
        out += strip_think_ ? after_think(m.content, false) : std::string_view(m.content);
        out += "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>";
      }
    }
    if (gen) out += think_prompt_ ? "<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C><think>\n" : "<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C>";
  } else {  // llama2, mistral: [INST] turns that must alternate
    const bool has_system = !msgs.empty() && msgs[0].role == "system";
    const std::span<const ChatMessage> turns = msgs.subspan(has_system ? 1 : 0);
    for (size_t i = 0; i < turns.size(); ++i) {
      const bool user = turns[i].role == "user";
      PRIMA_CHECK(user || turns[i].role == "assistant", "chat template {}: role '{}' is not supported (system first, then user/assistant)",
                  family_, turns[i].role);
      PRIMA_CHECK(user == (i % 2 == 0), "chat template {}: after the optional system message, conversation roles must alternate user/assistant/user/assistant/...",
                  family_);
    }
    if (family_ == "llama2") {
      for (size_t i = 0; i < turns.size(); ++i) {
        std::string content = turns[i].content;
        if (i == 0 && has_system) content = "<<SYS>>\n" + msgs[0].content + "\n<</SYS>>\n\n" + content;
        if (turns[i].role == "user") {
          out += bos_ + "[INST] ";
          out += strip(content);
          out += " [/INST]";
        } else {
          out += " ";
          out += strip(content);
          out += " " + eos_;
        }
      }
    } else if (mistral_style_ == 3) {
      out += bos_;
      for (size_t i = 0; i < turns.size(); ++i) {
        if (turns[i].role == "user") {
          if (i + 1 == turns.size() && has_system)
            out += "[INST] " + msgs[0].content + "\n\n" + turns[i].content + "[/INST]";
          else
            out += "[INST] " + turns[i].content + "[/INST]";
        } else {
          out += " ";
          out += strip(turns[i].content);
          out += eos_;
        }
      }
    } else {  // v1 and v0.1: the system message joins the first user turn
      const char* open = mistral_style_ == 1 ? " [INST] " : "[INST] ";
      out += bos_;
      for (size_t i = 0; i < turns.size(); ++i) {
        if (turns[i].role == "user") {
          out += open;
          if (i == 0 && has_system) out += msgs[0].content + "\n\n";
          out += turns[i].content + " [/INST]";
        } else {
          out += mistral_style_ == 1 ? " " + turns[i].content : turns[i].content;
          out += eos_;
        }
      }
    }
  }
  return out;
}

std::vector<token_id> encode_chat(const Tokenizer& tok, const ChatTemplate& tmpl, std::span<const ChatMessage> messages,
                                  bool add_generation_prompt) {
  std::vector<token_id> ids = tok.encode(tmpl.render(messages, add_generation_prompt), false, true);
  if (tok.add_bos() && (ids.empty() || ids.front() != tok.bos())) ids.insert(ids.begin(), tok.bos());
  return ids;
}

}  // namespace prima::tokenizer
