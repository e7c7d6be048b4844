#include "model/chat_template.h"

#include <string_view>

#include "common/error.h"
#include "common/python_text.h"

namespace gemma {
namespace {

constexpr std::string_view kBos = "<bos>";

}  // namespace

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
