#pragma once
// lm-eval's prompt assembly (api/task.py::fewshot_context,
// build_qa_turn, api/utils.py), reproduced string for string. A prompt is a list of messages, each
// with the delimiter that follows it in plain text; the `pt` profile concatenates them, the `it`
// profile collapses them into one user turn (lm-eval's apply_chat_template without
// fewshot_as_multiturn) and renders the Gemma 3 chat template. Torch-free.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evals/evaluator.h"

namespace gemma::evals {

// lm-eval's Message: `delimiter` follows `content` in plain text and is dropped by chat templates.
struct PromptMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
  std::string delimiter;
};

// maybe_delimit(prefix, suffix, delimiter): joins with `delimiter` unless either side is empty or
// whitespace already separates them (Python str.isspace on the boundary code points).
std::string maybe_delimit(std::string_view prefix, std::string_view suffix, std::string_view delimiter = " ");
// requires_delimiter(prefix, suffix): prefix non-empty and no whitespace at the boundary.
bool requires_delimiter(std::string_view prefix, std::string_view suffix);

// build_qa_turn: a user message with `question`, plus an assistant message when there is an answer
// (lm-eval's has_answer: present and non-empty) or a generation prefix.
std::vector<PromptMessage> build_qa_turn(std::string_view question, const std::optional<std::string>& answer,
                                         const std::optional<std::string>& gen_prefix,
                                         std::string_view target_delimiter, std::string_view fewshot_delimiter);

// One rendered few-shot example: the question text and the answer text it shows (already resolved:
// choices[gold] for an index target, the first element of a list target).
struct FewshotExample {
  std::string question;
  std::string answer;
};

struct PromptFormat {
  std::string system_instruction;  // lm-eval --system_instruction; empty = none
  std::string description;         // the task's description, prepended once
  std::string target_delimiter = " ";
  std::string fewshot_delimiter = "\n\n";
  // lm-eval's fewshot_as_multiturn (api/task.py fewshot_context): under the chat template the messages go
  // to it as they are, each shot a user turn and an assistant turn, instead of multiturn_to_singleturn's
  // one user turn. Plain text is the same either way.
  bool fewshot_as_multiturn = false;
};

// The messages that precede the eval doc: the system message (system instruction and description
// joined by maybe_delimit with the few-shot delimiter) and one QA turn per shot.
std::vector<PromptMessage> fewshot_prefix(const PromptFormat& format, const std::vector<FewshotExample>& shots);

// Plain text: every message's content followed by its delimiter.
std::string render_plain_text(const std::vector<PromptMessage>& messages);

// lm-eval's multiturn_to_singleturn: a leading system message stays; everything else (which must end
// with a user message here) becomes one user message, the last delimiter dropped.
std::vector<PromptMessage> collapse_to_single_user_turn(std::vector<PromptMessage> messages);

// The context string a request carries (without BOS): plain text for Profile::Pt; for Profile::It the
// collapsed conversation through the chat template (`chat`, the model folder's; empty: the built-in
// Gemma 3 render_chat) with the generation prompt, its leading "<bos>" removed because the engine adds
// BOS itself. With `multiturn` (fewshot_as_multiturn) the messages are rendered as they are, not collapsed.
std::string render_context(const std::vector<PromptMessage>& messages, Profile profile, bool multiturn = false,
                           const ChatRenderer& chat = {});

// A k-shot prompt for one eval doc: prefix + the doc's question as the final user turn.
std::string build_prompt(const PromptFormat& format, const std::vector<FewshotExample>& shots,
                         std::string_view question, Profile profile, const ChatRenderer& chat = {});

// Multiple-input tasks (WinoGrande): one context per choice, each = prefix + that choice's text as
// the final user turn (no delimiter); the continuation, shared, is made by the caller.
std::vector<std::string> build_multiple_input_prompts(const PromptFormat& format,
                                                      const std::vector<FewshotExample>& shots,
                                                      const std::vector<std::string>& contexts, Profile profile,
                                                      const ChatRenderer& chat = {});

// The delimiter before each multiple-choice continuation: the task's target delimiter, except under a
// chat template where lm-eval uses "" (it keeps the delimiter only for a gen_prefix that does not end
// in whitespace, and tasks here have none).
std::string choice_delimiter(const std::string& target_delimiter, Profile profile);

}  // namespace gemma::evals
