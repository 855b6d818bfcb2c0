// Chat templates: each family against the exact text its real template renders for
// system + user + assistant + user (+ generation prompt). The expected strings were worked out by hand
// from the Jinja of the real templates (embedded below, or read from the vocab fixtures).
#include <gtest/gtest.h>

#include "common.h"
#include "tokenizer/chat_template.h"

namespace prima::tokenizer::test {
namespace {

const std::vector<ChatMessage> kConversation = {
    {"system", "You are terse."},
    {"user", "Hello!"},
    {"assistant", " Hi there. "},  // spaces: some families trim, some keep
    {"user", "Who are you?"},
};

ChatTemplate from_vocab(const std::string& name, std::string_view override_name = {}) {
  return ChatTemplate::from_gguf(gguf::File::open(fixtures() + "/vocab/ggml-vocab-" + name + ".gguf"), override_name);
}

// ---- Llama 3: the template in the llama-bpe fixture (an early Llama 3 GGUF: it always ends with the
// assistant header).
TEST(ChatTemplate, Llama3FromFixture) {
  const auto t = from_vocab("llama-bpe");
  EXPECT_EQ(t.name(), "llama3");
  const std::string want =
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\nHi there.<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\nWho are you?<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\n";
  EXPECT_EQ(t.render(kConversation, true), want);
  EXPECT_EQ(t.render(kConversation, false), want);  // this template has no add_generation_prompt switch
}

// The official Meta-Llama-3-Instruct template (with the switch).
constexpr const char* kLlama3Official =
    R"({% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %})";

TEST(ChatTemplate, Llama3Official) {
  const auto t = ChatTemplate::from_string(kLlama3Official, "<|begin_of_text|>", "<|end_of_text|>");
  EXPECT_EQ(t.name(), "llama3");
  const std::string body =
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\nHi there.<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\nWho are you?<|eot_id|>";
  EXPECT_EQ(t.render(kConversation, false), body);
  EXPECT_EQ(t.render(kConversation, true), body + "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

// Llama 3.1 / 3.3: the system header carries the knowledge cut-off and the date (no tools).
constexpr const char* kLlama31Excerpt =
    R"({{- bos_token }}{%- if not date_string is defined %}{%- set date_string = "26 Jul 2024" %}{%- endif %}{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content']|trim %}{%- set messages = messages[1:] %}{%- else %}{%- set system_message = "" %}{%- endif %}{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}{{- "Cutting Knowledge Date: December 2023\n" }}{{- "Today Date: " + date_string + "\n\n" }}{{- system_message }}{{- "<|eot_id|>" }}{%- for message in messages %}{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{%- endif %})";

TEST(ChatTemplate, Llama31KnowledgeHeader) {
  const auto t = ChatTemplate::from_string(kLlama31Excerpt, "<|begin_of_text|>", "<|eot_id|>");
  EXPECT_EQ(t.render(kConversation, true),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
            "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nYou are terse.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nHi there.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nWho are you?<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

// ---- ChatML: the Qwen2 template in the qwen2 fixture (default system prompt; the assistant header
// follows every user turn).
TEST(ChatTemplate, ChatmlQwen2FromFixture) {
  const auto t = from_vocab("qwen2");
  EXPECT_EQ(t.name(), "chatml");
  const std::string want =
      "<|im_start|>system\nYou are terse.<|im_end|>\n"
      "<|im_start|>user\nHello!<|im_end|>\n"
      "<|im_start|>assistant\n Hi there. <|im_end|>\n"
      "<|im_start|>user\nWho are you?<|im_end|>\n"
      "<|im_start|>assistant\n";
  EXPECT_EQ(t.render(kConversation, true), want);
  EXPECT_EQ(t.render(std::vector<ChatMessage>{{"user", "Hi"}}, true),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\n");
}

constexpr const char* kQwen25 =
    R"({%- if tools %}{{- '<|im_start|>system\n' }}{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}{%- else %}{{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}{%- endif %}{{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}{%- for tool in tools %}{{- "\n" }}{{- tool | tojson }}{%- endfor %}{{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}{%- else %}{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}{%- else %}{{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}{%- endif %}{%- endif %}{%- for message in messages %}{%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}{{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}{%- elif message.role == "assistant" %}{{- '<|im_start|>' + message.role }}{%- if message.content %}{{- '\n' + message.content }}{%- endif %}{{- '<|im_end|>\n' }}{%- endif %}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %})";

TEST(ChatTemplate, ChatmlQwen25) {
  const auto t = ChatTemplate::from_string(kQwen25, "", "<|im_end|>");
  EXPECT_EQ(t.name(), "chatml");
  const std::string body =
      "<|im_start|>system\nYou are terse.<|im_end|>\n"
      "<|im_start|>user\nHello!<|im_end|>\n"
      "<|im_start|>assistant\n Hi there. <|im_end|>\n"
      "<|im_start|>user\nWho are you?<|im_end|>\n";
  EXPECT_EQ(t.render(kConversation, true), body + "<|im_start|>assistant\n");
  EXPECT_EQ(t.render(kConversation, false), body);
  EXPECT_EQ(t.render(std::vector<ChatMessage>{{"user", "Hi"}}, true),
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

constexpr const char* kQwq =
    R"({%- if tools %}{{- '<|im_start|>system\n' }}{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}{%- else %}{{- '' }}{%- endif %}{{- "\n\n# Tools\n\n<tools>" }}{%- for tool in tools %}{{- "\n" }}{{- tool | tojson }}{%- endfor %}{{- "\n</tools><|im_end|>\n" }}{%- else %}{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}{%- endif %}{%- endif %}{%- for message in messages %}{%- if (message.role == "user") or (message.role == "system" and not loop.first) %}{{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}{%- elif message.role == "assistant" and not message.tool_calls %}{%- set content = message.content.split('</think>')[-1].lstrip('\n') %}{{- '<|im_start|>' + message.role + '\n' + content + '<|im_end|>' + '\n' }}{%- endif %}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n<think>\n' }}{%- endif %})";

TEST(ChatTemplate, ChatmlQwq) {
  const auto t = ChatTemplate::from_string(kQwq, "", "<|im_end|>");
  EXPECT_EQ(t.name(), "chatml");
  auto conv = kConversation;
  conv[2].content = "<think>\nLet me greet.\n</think>\n\nHi there.";
  EXPECT_EQ(t.render(conv, true),
            "<|im_start|>system\nYou are terse.<|im_end|>\n"
            "<|im_start|>user\nHello!<|im_end|>\n"
            "<|im_start|>assistant\nHi there.<|im_end|>\n"
            "<|im_start|>user\nWho are you?<|im_end|>\n"
            "<|im_start|>assistant\n<think>\n");
  EXPECT_EQ(t.render(std::vector<ChatMessage>{{"user", "Hi"}}, true),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n");  // no default system
}

// ---- DeepSeek-R1 distills (DeepSeek-R1-Distill-Qwen/Llama tokenizer_config.json).
constexpr const char* kDeepseekR1 =
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = "
    "namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='') %}{%- for message in messages "
    "%}{%- if message['role'] == 'system' %}{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor "
    "%}{{bos_token}}{{ns.system_prompt}}{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set "
    "ns.is_tool = false -%}{{'<\xEF\xBD\x9CUser\xEF\xBD\x9C>' + message['content']}}{%- endif %}{%- if "
    "message['role'] == 'assistant' and message['content'] is not none %}{%- if ns.is_tool "
    "%}{{'<\xEF\xBD\x9Ctool\xE2\x96\x81outputs\xE2\x96\x81" "end\xEF\xBD\x9C>' + message['content'] + "
    "'<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>'}}{%- set ns.is_tool = false -%}{%- else %}{% "
    "set content = message['content'] %}{% if '</think>' in content %}{% set content = "
    "content.split('</think>')[-1] %}{% endif %}{{'<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C>' + content + "
    "'<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>'}}{%- endif %}{%- endif %}{%- endfor -%}{% if "
    "add_generation_prompt and not ns.is_tool %}{{'<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C><think>\\n'}}{% endif %}";

TEST(ChatTemplate, DeepseekR1Distill) {
  const auto t = ChatTemplate::from_string(kDeepseekR1, "<\xEF\xBD\x9C" "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
                                           "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>");
  EXPECT_EQ(t.name(), "deepseek-r1");
  auto conv = kConversation;
  conv[2].content = "<think>\nLet me greet.\n</think>\n\n Hi there. ";
  EXPECT_EQ(t.render(conv, true),
            "<\xEF\xBD\x9C" "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>You are terse."
            "<\xEF\xBD\x9CUser\xEF\xBD\x9C>Hello!"
            "<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C>\n\n Hi there. <\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"
            "<\xEF\xBD\x9CUser\xEF\xBD\x9C>Who are you?"
            "<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C><think>\n");
}

// ---- Llama 2 chat (meta-llama/Llama-2-*-chat-hf).
constexpr const char* kLlama2 =
    R"({% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %})";

TEST(ChatTemplate, Llama2) {
  const auto t = ChatTemplate::from_string(kLlama2, "<s>", "</s>");
  EXPECT_EQ(t.name(), "llama2");
  EXPECT_EQ(t.render(kConversation, true),
            "<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHello! [/INST] Hi there. </s><s>[INST] Who are you? [/INST]");
  auto bad = kConversation;
  std::swap(bad[1], bad[2]);
  EXPECT_THROW((void)t.render(bad, true), Error);
}

// ---- Mistral (Mistral-7B-Instruct-v0.3 style: the system message joins the last user turn).
constexpr const char* kMistral =
    R"({%- if messages[0]["role"] == "system" %}{%- set system_message = messages[0]["content"] %}{%- set loop_messages = messages[1:] %}{%- else %}{%- set loop_messages = messages %}{%- endif %}{%- if not tools is defined %}{%- set tools = none %}{%- endif %}{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}{{- bos_token }}{%- for message in loop_messages %}{%- if message["role"] == "user" %}{%- if tools is not none and (message == user_messages[-1]) %}{{- "[AVAILABLE_TOOLS] [" }}{{- "]" }}{{- "[/AVAILABLE_TOOLS]" }}{%- endif %}{%- if loop.last and system_message is defined %}{{- "[INST] " + system_message + "\n\n" + message["content"] + "[/INST]" }}{%- else %}{{- "[INST] " + message["content"] + "[/INST]" }}{%- endif %}{%- elif message["role"] == "assistant" %}{{- " " + message["content"]|trim + eos_token}}{%- else %}{{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}{%- endif %}{%- endfor %})";

TEST(ChatTemplate, Mistral) {
  const auto t = ChatTemplate::from_string(kMistral, "<s>", "</s>");
  EXPECT_EQ(t.name(), "mistral");
  EXPECT_EQ(t.render(kConversation, true), "<s>[INST] Hello![/INST] Hi there.</s>[INST] You are terse.\n\nWho are you?[/INST]");
  auto bad = kConversation;
  bad[3].role = "assistant";
  EXPECT_THROW((void)t.render(bad, true), Error);
}

// Mistral "v1" (mistralai cookbook; Mistral-7B-Instruct-v0.2 later revisions): system joins the first user turn.
constexpr const char* kMistralV1 =
    R"({%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content'] %}{%- set loop_messages = messages[1:] %}{%- else %}{%- set loop_messages = messages %}{%- endif %}{{- bos_token }}{%- for message in loop_messages %}{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}{%- endif %}{%- if message['role'] == 'user' %}{%- if loop.first and system_message is defined %}{{- ' [INST] ' + system_message + '\n\n' + message['content'] + ' [/INST]' }}{%- else %}{{- ' [INST] ' + message['content'] + ' [/INST]' }}{%- endif %}{%- elif message['role'] == 'assistant' %}{{- ' ' + message['content'] + eos_token}}{%- else %}{{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}{%- endif %}{%- endfor %})";

// The original Mistral-7B-Instruct-v0.1 template (no system message).
constexpr const char* kMistralV01 =
    R"({{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %})";

TEST(ChatTemplate, MistralVariants) {
  const auto v1 = ChatTemplate::from_string(kMistralV1, "<s>", "</s>");
  EXPECT_EQ(v1.name(), "mistral");
  EXPECT_EQ(v1.render(kConversation, true), "<s> [INST] You are terse.\n\nHello! [/INST]  Hi there. </s> [INST] Who are you? [/INST]");
  const auto v01 = ChatTemplate::from_string(kMistralV01, "<s>", "</s>");
  const std::vector<ChatMessage> no_system(kConversation.begin() + 1, kConversation.end());
  EXPECT_EQ(v01.render(no_system, true), "<s>[INST] Hello! [/INST] Hi there. </s>[INST] Who are you? [/INST]");
  EXPECT_EQ(v01.render(kConversation, true), "<s>[INST] You are terse.\n\nHello! [/INST] Hi there. </s>[INST] Who are you? [/INST]");
}

// ---- Recognition failures and the override.
TEST(ChatTemplate, UnknownTemplateNamesTheWayOut) {
  try {
    (void)ChatTemplate::from_string("{{ messages }}", "", "", {}, "model.gguf: tokenizer.chat_template");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("model.gguf"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--chat-template"), std::string::npos) << msg;
    for (auto n : ChatTemplate::family_names()) EXPECT_NE(msg.find(std::string(n)), std::string::npos) << msg;
  }
  EXPECT_THROW((void)ChatTemplate::from_string(kLlama2, "", "", "no-such-family"), Error);
  // A vocab without a template: an error unless a family is named.
  EXPECT_THROW((void)from_vocab("gpt-2"), Error);
  const auto t = from_vocab("gpt-2", "chatml");
  EXPECT_EQ(t.render(std::vector<ChatMessage>{{"user", "Hi"}}, true), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  const auto r1 = ChatTemplate::from_string("", "<s>", "</s>", "deepseek-r1");
  EXPECT_EQ(r1.render(std::vector<ChatMessage>{{"user", "Hi"}}, true),
            "<s><\xEF\xBD\x9CUser\xEF\xBD\x9C>Hi<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C><think>\n");
}

// ---- Rendered prompts tokenize with the special tokens recognised, and exactly one BOS.
TEST(ChatTemplate, EncodeChatSpecialTokensAndOneBos) {
  const auto& q = vocab("qwen2");
  const auto qt = from_vocab("qwen2");
  const auto ids = encode_chat(q, qt, kConversation, true);
  EXPECT_EQ(ids.front(), q.find_token("<|im_start|>"));
  EXPECT_EQ(ids.back(), q.find_token("\xC4\x8A"));  // "\n" after "assistant"
  int im_end = 0;
  for (auto id : ids) im_end += id == q.find_token("<|im_end|>");
  EXPECT_EQ(im_end, 4);

  const auto& l = vocab("llama-bpe");
  const auto lt = from_vocab("llama-bpe");
  const auto lids = encode_chat(l, lt, kConversation, true);
  ASSERT_GE(lids.size(), 2u);
  EXPECT_EQ(lids[0], l.bos());
  EXPECT_NE(lids[1], l.bos());
  EXPECT_EQ(lids[1], l.find_token("<|start_header_id|>"));
}

}  // namespace
}  // namespace prima::tokenizer::test
