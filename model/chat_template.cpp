#include "model/chat_template.h"

#include <string_view>

#include "common/error.h"

namespace gemma {
namespace {

constexpr std::string_view kBos = "<bos>";

// Python's str.isspace(), which Jinja's `trim` (str.strip()) uses: bidi classes WS/B/S and Zs.
bool is_python_whitespace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Decodes the UTF-8 character of `length` bytes at text[pos]; U+FFFD (not whitespace) when invalid.
char32_t decode_utf8(std::string_view text, size_t pos, size_t length) {
  unsigned char lead = static_cast<unsigned char>(text[pos]);
  if (length == 1) return lead < 0x80 ? lead : 0xFFFD;
  char32_t c = lead & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) c = (c << 6) | (static_cast<unsigned char>(text[pos + i]) & 0x3F);
  return c;
}

size_t utf8_length_from_lead(unsigned char lead) {
  return lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 1;
}

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Jinja's `trim`: strips leading and trailing Unicode whitespace.
std::string_view trim(std::string_view text) {
  size_t begin = 0;
  while (begin < text.size()) {
    size_t length = utf8_length_from_lead(static_cast<unsigned char>(text[begin]));
    if (begin + length > text.size() || !is_python_whitespace(decode_utf8(text, begin, length))) break;
    begin += length;
  }
  size_t end = text.size();
  while (end > begin) {
    size_t start = end - 1;
    while (start > begin && is_continuation(text[start])) --start;
    size_t length = end - start;
    if (utf8_length_from_lead(static_cast<unsigned char>(text[start])) != length ||
        !is_python_whitespace(decode_utf8(text, start, length)))
      break;
    end = start;
  }
  return text.substr(begin, end - begin);
}

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
    rendered += trim(message.content);
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
