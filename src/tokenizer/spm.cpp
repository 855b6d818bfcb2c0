// SentencePiece (SPM) encoding as llama.cpp does it: split into UTF-8 characters, repeatedly merge the
// adjacent pair whose concatenation is the token with the highest score (ties: leftmost), then emit
// each symbol's token, or re-split symbols that are not tokens into the pairs they came from, falling
// back to byte tokens <0xNN>.
#include <queue>
#include <unordered_map>

#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace prima::tokenizer {

namespace {

struct Symbol {
  uint32_t off;  // into the text
  uint32_t n;    // bytes; 0 once merged into its left neighbour
  int prev, next;
};

struct Bigram {
  int left, right;
  float score;
  size_t size;
};

struct BigramOrder {  // priority_queue top = highest score, then leftmost
  bool operator()(const Bigram& l, const Bigram& r) const {
    return l.score < r.score || (l.score == r.score && l.left > r.left);
  }
};

class Session {
 public:
  Session(const Vocab& v, std::string_view text) : v_(v), text_(text) {}

  void run(std::vector<token_id>& out) {
    for (uint32_t off = 0; off < text_.size();) {
      const uint32_t n = std::min<uint32_t>(unicode::len_from_lead(static_cast<uint8_t>(text_[off])),
                                            static_cast<uint32_t>(text_.size()) - off);
      const int index = static_cast<int>(symbols_.size());
      symbols_.push_back({off, n, index - 1, off + n == text_.size() ? -1 : index + 1});
      off += n;
    }
    if (symbols_.empty()) return;
    for (int i = 1; i < static_cast<int>(symbols_.size()); ++i) try_add_bigram(i - 1, i);
    while (!queue_.empty()) {
      const Bigram b = queue_.top();
      queue_.pop();
      Symbol& l = symbols_[b.left];
      Symbol& r = symbols_[b.right];
      if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;  // outdated
      l.n += r.n;
      r.n = 0;
      l.next = r.next;
      if (r.next >= 0) symbols_[r.next].prev = b.left;
      try_add_bigram(l.prev, b.left);
      try_add_bigram(b.left, l.next);
    }
    for (int i = 0; i != -1; i = symbols_[i].next) resegment(symbols_[i], out, 0);
  }

 private:
  std::string_view sym_text(const Symbol& s) const { return text_.substr(s.off, s.n); }

  void try_add_bigram(int left, int right) {
    if (left == -1 || right == -1) return;
    const std::string_view t = text_.substr(symbols_[left].off, symbols_[left].n + symbols_[right].n);
    const token_id id = v_.index.find(t);
    if (id == kNoToken) return;
    queue_.push({left, right, v_.scores[id], t.size()});
    rev_merge_[t] = {left, right};
  }

  void resegment(const Symbol& s, std::vector<token_id>& out, int depth) {
    const std::string_view t = sym_text(s);
    if (const token_id id = v_.index.find(t); id != kNoToken) {
      out.push_back(id);
      return;
    }
    const auto it = rev_merge_.find(t);
    if (it == rev_merge_.end() || depth > 64) {
      for (unsigned char c : t)
        if (v_.byte_token[c] != kNoToken) out.push_back(v_.byte_token[c]);
      return;
    }
    resegment(symbols_[it->second.first], out, depth + 1);
    resegment(symbols_[it->second.second], out, depth + 1);
  }

  const Vocab& v_;
  std::string_view text_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue_;
  std::unordered_map<std::string_view, std::pair<int, int>> rev_merge_;
};

}  // namespace

void spm_encode(const Vocab& v, std::string_view text, std::vector<token_id>& out) {
  Session(v, text).run(out);
}

}  // namespace prima::tokenizer
