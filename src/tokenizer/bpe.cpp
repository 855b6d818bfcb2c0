// Byte-level BPE as llama.cpp does it: pre-tokenize into words, map each byte of a word to its GPT-2
// code point, then repeatedly merge the adjacent pair with the lowest merge rank (ties: leftmost).
// Symbols that end up not being tokens fall back to the tokens of their single bytes (when those exist).
#include <queue>

#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace prima::tokenizer {

namespace {

struct Symbol {
  uint32_t off, n;  // into the encoded word; n = 0 once merged into the left neighbour
  int prev, next;
  token_id id;      // the token whose text this symbol is, or kNoToken
};

struct Bigram {
  int left, right;
  int32_t rank;
  uint32_t ln, rn;  // sizes of both symbols when queued: a change means the pair is outdated
};

struct BigramOrder {  // priority_queue top = lowest rank, then leftmost
  bool operator()(const Bigram& l, const Bigram& r) const {
    return l.rank > r.rank || (l.rank == r.rank && l.left > r.left);
  }
};

}  // namespace

void bpe_encode(const Vocab& v, std::string_view text, std::vector<token_id>& out) {
  std::vector<std::string> words;
  v.pre->split(text, words);

  std::string enc;
  std::vector<Symbol> sym;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  for (const std::string& word : words) {
    enc.clear();
    for (unsigned char c : word) unicode::append_utf8(enc, unicode::byte_to_cpt(c));
    if (v.ignore_merges)
      if (const token_id id = v.index.find(enc); id != kNoToken) {
        out.push_back(id);
        continue;
      }
    sym.clear();
    for (uint32_t off = 0; off < enc.size();) {
      const uint32_t n = static_cast<uint32_t>(unicode::len_from_lead(static_cast<uint8_t>(enc[off])));
      const int index = static_cast<int>(sym.size());
      sym.push_back({off, n, index - 1, off + n == enc.size() ? -1 : index + 1,
                     v.index.find(std::string_view(enc).substr(off, n))});
      off += n;
    }
    auto add_bigram = [&](int l, int r) {
      if (l == -1 || r == -1 || sym[l].id == kNoToken || sym[r].id == kNoToken) return;
      const int32_t rank = v.merges.find(sym[l].id, sym[r].id);
      if (rank >= 0) queue.push({l, r, rank, sym[l].n, sym[r].n});
    };
    for (int i = 1; i < static_cast<int>(sym.size()); ++i) add_bigram(i - 1, i);
    while (!queue.empty()) {
      const Bigram b = queue.top();
      queue.pop();
      Symbol& l = sym[b.left];
      Symbol& r = sym[b.right];
      if (l.n == 0 || r.n == 0 || l.n != b.ln || r.n != b.rn) continue;
      l.n += r.n;
      r.n = 0;
      l.id = v.index.find(std::string_view(enc).substr(l.off, l.n));
      l.next = r.next;
      if (r.next >= 0) sym[r.next].prev = b.left;
      add_bigram(l.prev, b.left);
      add_bigram(b.left, l.next);
    }
    for (int i = sym.empty() ? -1 : 0; i != -1; i = sym[i].next) {
      const Symbol& s = sym[i];
      if (s.id != kNoToken) {
        out.push_back(s.id);
        continue;
      }
      for (uint32_t k = 0; k < s.n; ++k)  // llama.cpp: the tokens of single bytes of the encoded text
        if (const token_id id = v.index.find(std::string_view(enc).substr(s.off + k, 1)); id != kNoToken)
          out.push_back(id);
    }
  }
}

}  // namespace prima::tokenizer
