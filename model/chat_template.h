#pragma once
// The Gemma 3 chat template, rendered natively: the same string Hugging Face's apply_chat_template(tokenize=False)
// produces from the template in the Hub tokenizer_config.json (turn markup as in google-deepmind/gemma
// gemma/gm/text/_tokenizer.py@7691fd4e), no Jinja.
#include <string>
#include <vector>

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

}  // namespace gemma
