// Encoding (special-token partition, then SPM or BPE per text fragment), decoding and accessors.
#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace prima::tokenizer {

Tokenizer::Tokenizer(std::unique_ptr<Vocab> v) : v_(std::move(v)) {}
Tokenizer::~Tokenizer() = default;

namespace {

struct Fragment {
  token_id token;   // kNoToken: raw text [off, off + len)
  size_t off, len;
};

bool c_isspace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Splits the text at every occurrence of a special token's text, longest tokens first (llama.cpp's
// tokenizer_st_partition). CONTROL and UNKNOWN tokens only when parse_special; USER_DEFINED always.
std::vector<Fragment> partition(const Vocab& v, std::string_view text, bool parse_special) {
  std::vector<Fragment> frags{{kNoToken, 0, text.size()}}, next;
  for (const token_id sid : v.special_cache) {
    const uint32_t attr = v.attr[sid];
    if (!parse_special && (attr & (kAttrControl | kAttrUnknown))) continue;
    const std::string_view st = v.text(sid);
    next.clear();
    for (const Fragment& f : frags) {
      if (f.token != kNoToken) {
        next.push_back(f);
        continue;
      }
      size_t base = f.off, blen = f.len;
      while (blen > 0) {
        const size_t m = text.substr(0, base + blen).find(st, base);
        if (m == std::string_view::npos) break;
        size_t llen = m - base;
        if (attr & kAttrLstrip)
          while (llen > 0 && c_isspace(text[base + llen - 1])) --llen;
        if (llen > 0) next.push_back({kNoToken, base, llen});
        next.push_back({sid, 0, 0});
        size_t roff = m + st.size(), rlen = base + blen - roff;
        if (attr & kAttrRstrip)
          while (rlen > 0 && c_isspace(text[roff])) ++roff, --rlen;
        base = roff, blen = rlen;
      }
      if (blen > 0) next.push_back({kNoToken, base, blen});
    }
    frags.swap(next);
  }
  return frags;
}

}  // namespace

std::vector<token_id> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  const Vocab& v = *v_;
  std::vector<token_id> out;
  out.reserve(text.size() / 3 + 4);
  const std::vector<Fragment> frags = text.empty() ? std::vector<Fragment>{} : partition(v, text, parse_special);
  if (add_special && v.add_bos) out.push_back(v.bos);
  if (v.type == VocabType::spm) {
    bool prev_special = true;  // a space is put before the first text and any text after a special token
    std::string buf;
    for (const Fragment& f : frags) {
      if (f.token != kNoToken) {
        out.push_back(f.token);
        prev_special = true;
        continue;
      }
      buf.clear();
      if (v.add_space_prefix && prev_special) buf += "\xE2\x96\x81";
      for (char c : text.substr(f.off, f.len)) {
        if (c == ' ')
          buf += "\xE2\x96\x81";  // "▁"
        else
          buf.push_back(c);
      }
      spm_encode(v, buf, out);
      prev_special = false;
    }
  } else {
    for (const Fragment& f : frags) {
      if (f.token != kNoToken)
        out.push_back(f.token);
      else
        bpe_encode(v, text.substr(f.off, f.len), out);
    }
  }
  if (add_special && v.add_eos) out.push_back(v.eos);
  return out;
}

std::string_view Tokenizer::piece_view(token_id id, bool special) const {
  const Vocab& v = *v_;
  if (!v.valid(id)) return {};
  if (!special && (v.attr[id] & (kAttrControl | kAttrUnknown))) return {};
  return v.piece(id);
}

std::string Tokenizer::decode(std::span<const token_id> ids, bool skip_special) const {
  const Vocab& v = *v_;
  bool remove_space = v.add_space_prefix;
  if (skip_special && v.add_bos && !ids.empty() && ids.front() == v.bos) {
    remove_space = false;
    ids = ids.subspan(1);
  }
  if (skip_special && v.add_eos && !ids.empty() && ids.back() == v.eos) ids = ids.first(ids.size() - 1);
  std::string out;
  for (const token_id id : ids) {
    std::string_view p = piece_view(id, !skip_special);
    if (remove_space && !p.empty() && p.front() == ' ') p.remove_prefix(1);
    remove_space = false;
    out += p;
  }
  return out;
}

std::string_view Tokenizer::token_text(token_id id) const { return v_->valid(id) ? v_->text(id) : std::string_view{}; }
token_id Tokenizer::find_token(std::string_view text) const { return v_->index.find(text); }
int32_t Tokenizer::n_tokens() const { return v_->n_tokens; }
VocabType Tokenizer::type() const { return v_->type; }
std::string_view Tokenizer::pre_name() const { return v_->pre_name; }
TokenType Tokenizer::token_type(token_id id) const { return v_->valid(id) ? v_->types[id] : TokenType::undefined; }
bool Tokenizer::is_control(token_id id) const {
  return v_->valid(id) && (v_->attr[id] & (kAttrControl | kAttrUnknown)) != 0;
}
bool Tokenizer::is_eog(token_id id) const { return std::binary_search(v_->eog.begin(), v_->eog.end(), id); }
std::span<const token_id> Tokenizer::eog_ids() const { return v_->eog; }
token_id Tokenizer::bos() const { return v_->bos; }
token_id Tokenizer::eos() const { return v_->eos; }
token_id Tokenizer::eot() const { return v_->eot; }
token_id Tokenizer::eom() const { return v_->eom; }
token_id Tokenizer::unk() const { return v_->unk; }
token_id Tokenizer::pad() const { return v_->pad; }
bool Tokenizer::add_bos() const { return v_->add_bos; }
bool Tokenizer::add_eos() const { return v_->add_eos; }
bool Tokenizer::add_space_prefix() const { return v_->add_space_prefix; }

std::string StreamDecoder::push(token_id id) {
  held_ += tok_->piece_view(id, special_);
  const size_t n = unicode::complete_prefix(held_);
  std::string out = unicode::sanitize(std::string_view(held_).substr(0, n));
  held_.erase(0, n);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out = unicode::sanitize(held_);
  held_.clear();
  return out;
}

}  // namespace prima::tokenizer
