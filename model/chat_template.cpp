#include "model/chat_template.h"

#include <string_view>

#include "common/error.h"
#include "common/files.h"
#include "common/jinja.h"
#include "common/python_text.h"
#include "common/sha256.h"

namespace gemma {
namespace {

constexpr std::string_view kBos = "<bos>";

// transformers passes every special token of the tokenizer to the template (tokenization_utils_base.py
// apply_chat_template: **self.special_tokens_map); a token is written as a string or as an AddedToken
// object {"content": ...}.
nlohmann::ordered_json special_tokens_of(const nlohmann::json& config) {
  nlohmann::ordered_json tokens = nlohmann::ordered_json::object();
  if (!config.is_object()) return tokens;
  for (const char* name : {"bos_token", "eos_token", "pad_token", "unk_token", "sep_token", "cls_token", "mask_token",
                           "boi_token", "eoi_token", "image_token"}) {
    const auto found = config.find(name);
    if (found == config.end()) continue;
    if (found->is_string()) {
      tokens[name] = found->get<std::string>();
    } else if (found->is_object() && found->contains("content") && (*found)["content"].is_string()) {
      tokens[name] = (*found)["content"].get<std::string>();
    }
  }
  return tokens;
}

nlohmann::json read_json_file(const std::filesystem::path& path, const std::filesystem::path& shown_as) {
  const std::string text = read_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& error) {
    fail("{}: not valid JSON ({})", shown_as.string(), error.what());
  }
}

}  // namespace

ChatTemplate ChatTemplate::builtin() { return ChatTemplate(); }

ChatTemplate ChatTemplate::from_source(const std::string& source, const nlohmann::json& config,
                                       const std::string& origin) {
  ChatTemplate chat;
  chat.template_ = std::make_shared<const jinja::Template>(
      jinja::Template::parse(source, origin, 1, jinja::chat_template_options()));
  chat.source_ = source;
  chat.origin_ = origin;
  chat.special_tokens_ = special_tokens_of(config);
  return chat;
}

ChatTemplate ChatTemplate::from_tokenizer_config(const nlohmann::json& config, const std::string& origin) {
  if (!config.is_object()) fail("{}: expected a JSON object", origin);
  const auto found = config.find("chat_template");
  if (found == config.end() || found->is_null()) return builtin();
  if (found->is_string()) return from_source(found->get<std::string>(), config, origin + " chat_template");
  if (found->is_array()) {
    // The list form transformers writes for several named templates: [{"name": ..., "template": ...}].
    for (const auto& entry : *found) {
      if (!entry.is_object() || !entry.contains("name") || !entry.contains("template") ||
          !entry["template"].is_string())
        fail("{}: chat_template is a list, but an entry is not {{\"name\": ..., \"template\": \"...\"}}", origin);
      if (entry["name"] == "default")
        return from_source(entry["template"].get<std::string>(), config, origin + " chat_template \"default\"");
    }
    fail("{}: chat_template is a list of named templates without one named \"default\"", origin);
  }
  fail("{}: chat_template must be a string or a list of {{name, template}}, not {}", origin, found->type_name());
}

ChatTemplate ChatTemplate::from_model_dir(const std::filesystem::path& model_dir) {
  // Files are read through link stubs (common/files.h), and named in errors as the folder holds them.
  const std::filesystem::path config_path = model_dir / "tokenizer_config.json";
  const nlohmann::json config = std::filesystem::exists(config_path)
                                    ? read_json_file(follow_link_stub(config_path), config_path)
                                    : nlohmann::json::object();
  const std::filesystem::path jinja_path = model_dir / "chat_template.jinja";
  if (std::filesystem::exists(jinja_path))
    return from_source(read_file(follow_link_stub(jinja_path)), config, jinja_path.string());
  if (config.is_object() && config.contains("chat_template"))
    return from_tokenizer_config(config, config_path.string());
  const std::filesystem::path processor_path = model_dir / "chat_template.json";
  if (std::filesystem::exists(processor_path)) {
    nlohmann::json processor = read_json_file(follow_link_stub(processor_path), processor_path);
    if (processor.is_object() && processor.contains("chat_template")) {
      nlohmann::json merged = config.is_object() ? config : nlohmann::json::object();
      merged["chat_template"] = processor["chat_template"];
      return from_tokenizer_config(merged, processor_path.string());
    }
  }
  return builtin();
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const {
  if (template_ == nullptr) return render_chat(messages, add_generation_prompt);
  nlohmann::ordered_json context = special_tokens_;
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const ChatMessage& message : messages) list.push_back({{"role", message.role}, {"content", message.content}});
  context["messages"] = std::move(list);
  context["add_generation_prompt"] = add_generation_prompt;
  context["tools"] = nullptr;
  context["documents"] = nullptr;
  return template_->render(context);
}

ChatRenderer ChatTemplate::renderer() const {
  ChatTemplate copy = *this;
  return [copy](const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
    return copy.render(messages, add_generation_prompt);
  };
}

std::string ChatTemplate::fingerprint() const { return is_builtin() ? "builtin" : sha256_hex(source_); }

std::string render_chat(const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
  if (messages.empty()) fail("cannot render a chat with no messages");
  std::string first_user_prefix;
  size_t first_turn = 0;
  if (messages[0].role == "system") {
    first_user_prefix = messages[0].content + "\n\n";  // not trimmed, as in the template
    first_turn = 1;
  }
  std::string rendered(kBos);
  for (size_t i = first_turn; i < messages.size(); ++i) {
    const ChatMessage& message = messages[i];
    const size_t turn = i - first_turn;
    if ((message.role == "user") != (turn % 2 == 0))
      fail("Conversation roles must alternate user/assistant/user/assistant/...: message {} has role \"{}\"", i,
           message.role);
    rendered += "<start_of_turn>";
    rendered += message.role == "assistant" ? std::string("model") : message.role;
    rendered += '\n';
    if (turn == 0) rendered += first_user_prefix;
    rendered += python_strip(message.content);  // Jinja's `trim` filter: Python's str.strip()
    rendered += "<end_of_turn>\n";
  }
  if (add_generation_prompt) rendered += "<start_of_turn>model\n";
  return rendered;
}

std::vector<int> encode_chat(const Tokenizer& tokenizer, const std::vector<ChatMessage>& messages,
                             bool add_generation_prompt) {
  const int bos = tokenizer.special().bos;
  if (bos < 0) fail("{} has no BOS token, which the Gemma chat format starts with", tokenizer.source_path());
  std::string rendered = render_chat(messages, add_generation_prompt);
  std::vector<int> ids{bos};
  std::vector<int> body = tokenizer.encode(std::string_view(rendered).substr(kBos.size()));
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

}  // namespace gemma
