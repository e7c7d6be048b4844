#include "evals/prompt.h"

#include "common/error.h"
#include "common/python_text.h"
#include "model/chat_template.h"

namespace gemma::evals {
namespace {

constexpr std::string_view kBos = "<bos>";

bool whitespace_at_boundary(std::string_view prefix, std::string_view suffix) {
  return python_isspace(last_code_point(prefix)) || python_isspace(first_code_point(suffix));
}

std::vector<ChatMessage> to_chat_messages(const std::vector<PromptMessage>& messages) {
  std::vector<ChatMessage> chat;
  chat.reserve(messages.size());
  for (const PromptMessage& message : messages) chat.push_back({message.role, message.content});
  return chat;
}

std::string render_chat_without_bos(const std::vector<PromptMessage>& messages, bool multiturn,
                                    const ChatRenderer& chat) {
  const std::vector<PromptMessage> turns = multiturn ? messages : collapse_to_single_user_turn(messages);
  const std::vector<ChatMessage> conversation = to_chat_messages(turns);
  const std::string rendered = chat ? chat(conversation, /*add_generation_prompt=*/true)
                                    : render_chat(conversation, /*add_generation_prompt=*/true);
  if (rendered.compare(0, kBos.size(), kBos) != 0)
    fail("the chat template did not start with {}: cannot strip the BOS text", kBos);
  return rendered.substr(kBos.size());
}

}  // namespace

std::string maybe_delimit(std::string_view prefix, std::string_view suffix, std::string_view delimiter) {
  if (prefix.empty()) return std::string(suffix);
  if (suffix.empty()) return std::string(prefix);
  std::string joined(prefix);
  if (!whitespace_at_boundary(prefix, suffix)) joined += delimiter;
  joined += suffix;
  return joined;
}

bool requires_delimiter(std::string_view prefix, std::string_view suffix) {
  if (prefix.empty()) return false;
  if (suffix.empty()) return !python_isspace(last_code_point(prefix));
  return !whitespace_at_boundary(prefix, suffix);
}

std::vector<PromptMessage> build_qa_turn(std::string_view question, const std::optional<std::string>& answer,
                                         const std::optional<std::string>& gen_prefix,
                                         std::string_view target_delimiter, std::string_view fewshot_delimiter) {
  const bool has_answer = answer && !answer->empty();
  const bool has_prefix = gen_prefix && !gen_prefix->empty();  // Python truthiness of gen_prefix
  std::string user_delimiter;
  if (has_answer && !has_prefix) user_delimiter = target_delimiter;
  if (has_prefix && requires_delimiter(question, *gen_prefix)) user_delimiter = target_delimiter;
  std::vector<PromptMessage> messages{{"user", std::string(question), user_delimiter}};
  if (has_answer) {
    const std::string content = maybe_delimit(has_prefix ? *gen_prefix : "", *answer, " ");
    messages.push_back({"assistant", content, std::string(fewshot_delimiter)});
  } else if (has_prefix) {
    messages.push_back({"assistant", *gen_prefix, ""});
  }
  return messages;
}

std::vector<PromptMessage> fewshot_prefix(const PromptFormat& format, const std::vector<FewshotExample>& shots) {
  std::vector<PromptMessage> messages;
  const std::string system = maybe_delimit(format.system_instruction, format.description, format.fewshot_delimiter);
  if (!system.empty()) messages.push_back({"system", system, ""});
  for (const FewshotExample& shot : shots) {
    for (PromptMessage& message :
         build_qa_turn(shot.question, shot.answer, std::nullopt, format.target_delimiter, format.fewshot_delimiter))
      messages.push_back(std::move(message));
  }
  return messages;
}

std::string render_plain_text(const std::vector<PromptMessage>& messages) {
  std::string text;
  for (const PromptMessage& message : messages) {
    text += message.content;
    text += message.delimiter;
  }
  return text;
}

std::vector<PromptMessage> collapse_to_single_user_turn(std::vector<PromptMessage> messages) {
  std::vector<PromptMessage> collapsed;
  auto first_turn = messages.begin();
  if (first_turn != messages.end() && first_turn->role == "system") {
    collapsed.push_back(*first_turn);
    ++first_turn;
  }
  if (first_turn == messages.end()) fail("cannot build a chat prompt without a user message");
  if (messages.back().role != "user")
    fail(
        "the prompt ends with a(n) {} message: a chat prompt continuing an assistant turn (gen_prefix) is not "
        "supported",
        messages.back().role);
  messages.back().delimiter.clear();
  collapsed.push_back({"user", render_plain_text(std::vector<PromptMessage>(first_turn, messages.end())), ""});
  return collapsed;
}

std::string render_context(const std::vector<PromptMessage>& messages, Profile profile, bool multiturn,
                           const ChatRenderer& chat) {
  return profile == Profile::It ? render_chat_without_bos(messages, multiturn, chat) : render_plain_text(messages);
}

std::string build_prompt(const PromptFormat& format, const std::vector<FewshotExample>& shots,
                         std::string_view question, Profile profile, const ChatRenderer& chat) {
  std::vector<PromptMessage> messages = fewshot_prefix(format, shots);
  for (PromptMessage& message : build_qa_turn(question, std::nullopt, std::nullopt, format.target_delimiter, ""))
    messages.push_back(std::move(message));
  return render_context(messages, profile, format.fewshot_as_multiturn, chat);
}

std::vector<std::string> build_multiple_input_prompts(const PromptFormat& format,
                                                      const std::vector<FewshotExample>& shots,
                                                      const std::vector<std::string>& contexts, Profile profile,
                                                      const ChatRenderer& chat) {
  const std::vector<PromptMessage> prefix = fewshot_prefix(format, shots);
  std::vector<std::string> prompts;
  prompts.reserve(contexts.size());
  for (const std::string& context : contexts) {
    std::vector<PromptMessage> messages = prefix;
    messages.push_back({"user", context, ""});
    prompts.push_back(render_context(messages, profile, format.fewshot_as_multiturn, chat));
  }
  return prompts;
}

std::string choice_delimiter(const std::string& target_delimiter, Profile profile) {
  return profile == Profile::It ? std::string() : target_delimiter;
}

}  // namespace gemma::evals
