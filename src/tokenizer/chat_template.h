// Chat templates: the model's `tokenizer.chat_template` (Jinja) recognised by distinctive substrings,
// as llama.cpp does, and rendered by our own code for each family. No Jinja interpreter: a template we
// do not recognise is an error that names the way out (--chat-template NAME).
//
// Families (name: recognised by; output for system S, user U1, assistant A1, user U2 + generation prompt):
//   llama3      "<|start_header_id|>" and "<|end_header_id|>"  (Llama 3 / 3.1 / 3.3)
//               <|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|>...user...U1...
//               <|start_header_id|>assistant<|end_header_id|>\n\n       (contents trimmed)
//   chatml      "<|im_start|>"  (Qwen 2 / 2.5, QwQ)
//               <|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU1<|im_end|>\n<|im_start|>assistant\nA1
//               <|im_end|>\n<|im_start|>user\nU2<|im_end|>\n<|im_start|>assistant\n
//               Variants read from the template: its default system prompt (used when the conversation has
//               none), "<think>\n" after the generation prompt (QwQ), reasoning before </think> dropped from
//               earlier assistant turns.
//   deepseek-r1 "<｜User｜>" and "<｜Assistant｜>"  (DeepSeek-R1 and its Qwen/Llama distills)
//               <｜begin▁of▁sentence｜>S<｜User｜>U1<｜Assistant｜>A1<｜end▁of▁sentence｜><｜User｜>U2<｜Assistant｜><think>\n
//   llama2      "[INST]" and "<<SYS>>"
//               <s>[INST] <<SYS>>\nS\n<</SYS>>\n\nU1 [/INST] A1 </s><s>[INST] U2 [/INST]
//   mistral     "[INST]" without "<<SYS>>"  (Mistral v0.3 / Nemo style: system joins the last user turn)
//               <s>[INST] U1[/INST] A1</s>[INST] S\n\nU2[/INST]
//               variants read from the template: "v1" (' [INST] ' + system_message: system joins the first
//               user turn)  <s> [INST] S\n\nU1 [/INST] A1</s> [INST] U2 [/INST]
//               and the original v0.1 (' [/INST]' without a system message; we put S before the first
//               user turn as v1 does, where that template raises)  <s>[INST] S\n\nU1 [/INST]A1</s>[INST] U2 [/INST]
// Templates that ignore add_generation_prompt (some GGUFs always end with the assistant header) are
// honoured: the header is then always added. llama2 and mistral have no generation prompt and require
// user/assistant turns to alternate (prima::Error otherwise, as their templates raise).
//
// The rendered text holds special-token text (and, for most families, the BOS text): tokenize it with
// parse_special = true; encode_chat() does that and makes sure there is exactly one BOS when the model
// wants one.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace prima::tokenizer {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant" (others are rendered verbatim where the family allows)
  std::string content;
};

class ChatTemplate {
 public:
  // From the GGUF's tokenizer.chat_template (and its BOS/EOS token texts). override_name, when not
  // empty, picks the family instead (one of family_names()). Throws prima::Error naming the file when
  // the template is missing or not recognised, or the override is unknown.
  static ChatTemplate from_gguf(const gguf::File& f, std::string_view override_name = {});
  // The same from a template text; `source` names it in messages.
  static ChatTemplate from_string(std::string_view tmpl, std::string bos_text, std::string eos_text,
                                  std::string_view override_name = {}, std::string_view source = "chat template");
  static std::vector<std::string_view> family_names();

  // Throws prima::Error when the conversation does not fit the family (llama2 / mistral turn order).
  std::string render(std::span<const ChatMessage> messages, bool add_generation_prompt) const;
  std::string_view name() const { return family_; }

 private:
  std::string family_;
  std::string bos_, eos_;
  bool always_gen_prompt_ = false;  // the template ignores add_generation_prompt and always adds it
  std::string default_system_;      // chatml
  bool has_default_system_ = false;
  bool think_prompt_ = false;        // "<think>\n" after the generation prompt
  bool strip_think_ = false;         // drop "...</think>" from assistant turns
  bool strip_think_lstrip_ = false;  // ... and the newlines after it (QwQ)
  bool join_systems_ = false;        // deepseek-r1: several system messages joined by "\n\n"
  int mistral_style_ = 3;            // 3: v0.3, 1: v1 (cookbook), 0: original v0.1
};

// Renders and tokenizes a conversation (parse_special on), with exactly one BOS at the start when the
// model adds BOS (whether or not the template wrote it).
std::vector<token_id> encode_chat(const Tokenizer& tok, const ChatTemplate& tmpl, std::span<const ChatMessage> messages,
                                  bool add_generation_prompt);

}  // namespace prima::tokenizer
