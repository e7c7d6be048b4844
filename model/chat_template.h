#pragma once
// The Gemma 3 chat template, rendered natively: the same string Hugging Face's apply_chat_template(tokenize=False)
// produces from the template in the Hub tokenizer_config.json (turn markup as in google-deepmind/gemma
// gemma/gm/text/_tokenizer.py@7691fd4e), no Jinja.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/tokenizer.h"

namespace gemma {

struct ChatMessage {
  std::string role;  // system | user | assistant (| model)
  std::string content;
};

// The rendered conversation, starting with "<bos>". As in the template: a leading system message is
// not a turn but is prepended, verbatim, plus "\n\n", to the first user turn; "assistant" is written
// as "model"; each turn's content is trimmed (Jinja `trim`: Python str.strip(), Unicode whitespace);
// every turn ends with "<end_of_turn>\n". After the optional system message, even positions must be
// "user" and odd ones anything else (a gemma::Error otherwise, like the template's raise_exception).
// add_generation_prompt appends "<start_of_turn>model\n".
std::string render_chat(const std::vector<ChatMessage>& messages, bool add_generation_prompt = true);

// Token ids of the rendered chat with exactly one BOS: BOS id + encode(rendered text without its
// leading "<bos>"). Works with both tokenizers (SentencePiece would encode a literal "<bos>" as text).
std::vector<int> encode_chat(const Tokenizer& tokenizer, const std::vector<ChatMessage>& messages,
                             bool add_generation_prompt = true);

// Renders a conversation into prompt text (starting with the BOS text), with or without the generation
// prompt: ChatTemplate::render of a model folder's template, or render_chat.
using ChatRenderer = std::function<std::string(const std::vector<ChatMessage>&, bool add_generation_prompt)>;

namespace jinja {
class Template;
}

// A model folder's own chat template (fine-tunes change it), rendered by the Jinja engine (common/jinja.h)
// as transformers' apply_chat_template(tokenize=False) renders it (transformers
// utils/chat_template_utils.py: trim_blocks, lstrip_blocks, raise_exception), with the variables messages
// ({role, content} each), add_generation_prompt, bos_token, eos_token, pad_token, unk_token (from the
// config, a string or {"content": ...}), tools and documents (None); or, for a folder without one, the
// built-in render_chat above.
class ChatTemplate {
 public:
  // The built-in Gemma 3 template (render_chat).
  static ChatTemplate builtin();
  // The template `model_dir` carries, in transformers' order of precedence: chat_template.jinja, else
  // tokenizer_config.json "chat_template", else chat_template.json "chat_template" (processor
  // checkpoints); builtin() when it has none. A template that does not parse is an error naming the file.
  static ChatTemplate from_model_dir(const std::filesystem::path& model_dir);
  // From a parsed tokenizer_config.json: "chat_template" is a string or a list of {name, template}
  // (the one named "default" is used); builtin() when the key is absent. `origin` names the file in errors.
  static ChatTemplate from_tokenizer_config(const nlohmann::json& config, const std::string& origin);
  // A template text with the special tokens of `config` (a tokenizer_config.json, or an empty object).
  static ChatTemplate from_source(const std::string& source, const nlohmann::json& config, const std::string& origin);

  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt = true) const;
  ChatRenderer renderer() const;

  bool is_builtin() const { return template_ == nullptr; }
  const std::string& source() const { return source_; }  // the template text; empty for the built-in one
  const std::string& origin() const { return origin_; }  // "builtin" or the file (and key) it came from
  // What identifies the template in a run's provenance: "builtin", or the SHA-256 (hex) of its text.
  std::string fingerprint() const;

 private:
  std::shared_ptr<const jinja::Template> template_;
  std::string source_;
  std::string origin_ = "builtin";
  nlohmann::ordered_json special_tokens_;  // bos_token etc., the variables besides messages
};

}  // namespace gemma
