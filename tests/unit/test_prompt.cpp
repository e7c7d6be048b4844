// Prompt assembly (lm-eval lm_eval/api/task.py::fewshot_context@4e7e0d47) against lm-eval's own tests
// (tests/test_fewshot_context.py) and the SHA-256 of an MMLU prompt rendered by lm-eval itself.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/error.h"
#include "evals/prompt.h"

using namespace gemma::evals;

namespace {

std::string qa_text(const std::string& q, std::optional<std::string> gen_prefix, std::optional<std::string> a,
                    const std::string& td = "X", const std::string& fd = "") {
  return render_plain_text(build_qa_turn(q, a, gen_prefix, td, fd));
}

PromptFormat format_with(std::string description = "", std::string td = " ", std::string fd = "\n\n") {
  PromptFormat format;
  format.description = std::move(description);
  format.target_delimiter = std::move(td);
  format.fewshot_delimiter = std::move(fd);
  return format;
}

}  // namespace

TEST_CASE("prompt: maybe_delimit and requires_delimiter") {
  CHECK(maybe_delimit("prefix", "suffix", " ") == "prefix suffix");
  CHECK(maybe_delimit("prefix ", "suffix", "SPACE") == "prefix suffix");
  CHECK(maybe_delimit("prefix", " suffix", "DELIM") == "prefix suffix");
  CHECK(maybe_delimit("prefix ", " suffix", "X") == "prefix  suffix");
  CHECK(maybe_delimit("prefix", "") == "prefix");
  CHECK(maybe_delimit("", "suffix") == "suffix");
  CHECK(maybe_delimit("", "") == "");
  CHECK(maybe_delimit("a", "b", "---") == "a---b");
  // Python's isspace is Unicode-aware: a trailing no-break space (U+00A0) counts as whitespace.
  CHECK(maybe_delimit("a\xC2\xA0", "b", "-") ==
        "a\xC2\xA0"
        "b");
  CHECK(maybe_delimit("\xC3\xA9", "b", "-") == "\xC3\xA9-b");

  CHECK(requires_delimiter("Q", "P"));
  CHECK_FALSE(requires_delimiter("", "P"));
  CHECK_FALSE(requires_delimiter("Q\n", "P"));
  CHECK_FALSE(requires_delimiter("Q", "\nP"));
}

TEST_CASE("prompt: build_qa_turn whitespace matrix (X = target delimiter)") {
  CHECK(qa_text("Q", std::nullopt, "A") == "QXA");
  CHECK(qa_text("Q", std::nullopt, std::nullopt) == "Q");
  CHECK(qa_text("Q", "P", std::nullopt) == "QXP");
  CHECK(qa_text("Q", "P", "A") == "QXP A");
  CHECK(qa_text("Q\n", "P", "A") == "Q\nP A");
  CHECK(qa_text("Q", "\nP", std::nullopt) == "Q\nP");
  CHECK(qa_text("Q", "P\n", "A") == "QXP\nA");
  CHECK(qa_text("Q", "P", "\nA") == "QXP\nA");
}

TEST_CASE("prompt: build_qa_turn messages") {
  const auto basic = build_qa_turn("Question?", std::string("Answer"), std::nullopt, " ", "\n\n");
  REQUIRE(basic.size() == 2);
  CHECK(basic[0].role == "user");
  CHECK(basic[0].delimiter == " ");
  CHECK(basic[1].role == "assistant");
  CHECK(render_plain_text(basic) == "Question? Answer\n\n");
  // An empty answer is no answer (lm-eval's has_answer): no delimiter, no assistant turn.
  const auto empty = build_qa_turn("Question?", std::string(""), std::nullopt, " ", "\n\n");
  REQUIRE(empty.size() == 1);
  CHECK(render_plain_text(empty) == "Question?");
  CHECK(qa_text("Q", std::nullopt, "A", "->", "||") == "Q->A||");
  CHECK(qa_text("Q", std::nullopt, "A", "", "") == "QA");
  CHECK(render_plain_text(build_qa_turn("Question?", std::nullopt, std::string("Let me think"), " ", "")) ==
        "Question? Let me think");
}

TEST_CASE("prompt: k-shot plain-text prompts (lm-eval fewshot_context tests)") {
  CHECK(build_prompt(format_with(), {}, "What is the capital of France?", Profile::Pt) ==
        "What is the capital of France?");
  CHECK(build_prompt(format_with(), {{"What is 1+1?", "2"}}, "What is 2+2?", Profile::Pt) ==
        "What is 1+1? 2\n\nWhat is 2+2?");
  CHECK(build_prompt(format_with(), {{"Q1", "A1"}, {"Q2", "A2"}}, "Q3", Profile::Pt) == "Q1 A1\n\nQ2 A2\n\nQ3");
  CHECK(build_prompt(format_with("", "->", "||"), {{"Q1", "A1"}}, "Q2", Profile::Pt) == "Q1->A1||Q2");
  CHECK(build_prompt(format_with("Answer math questions.\n"), {}, "2+2?", Profile::Pt) ==
        "Answer math questions.\n2+2?");

  PromptFormat with_system = format_with("Answer math questions.\n");
  with_system.system_instruction = "Be helpful.";
  CHECK(build_prompt(with_system, {}, "2+2?", Profile::Pt) == "Be helpful.\n\nAnswer math questions.\n2+2?");
  PromptFormat system_only = format_with();
  system_only.system_instruction = "You are a helpful assistant.\n";
  CHECK(build_prompt(system_only, {}, "Question?", Profile::Pt) == "You are a helpful assistant.\nQuestion?");
}

TEST_CASE("prompt: MMLU synthetic 1-shot as lm-eval renders it") {
  const PromptFormat mmlu =
      format_with("The following are multiple choice questions (with answers) about anatomy.\n\n");
  const FewshotExample shot{
      "What is the largest organ of the human body?\nA. Heart\nB. Skin\nC. Liver\nD. Brain\nAnswer:", "B"};
  // The adapter's doc_to_text strips the question (" Which bone is in the arm? " in the vector).
  const std::string question = "Which bone is in the arm?\nA. Femur\nB. Tibia\nC. Humerus\nD. Fibula\nAnswer:";
  CHECK(build_prompt(mmlu, {shot}, question, Profile::Pt) ==
        "The following are multiple choice questions (with answers) about anatomy.\n\nWhat is the largest organ of "
        "the human body?\nA. Heart\nB. Skin\nC. Liver\nD. Brain\nAnswer: B\n\nWhich bone is in the arm?\nA. "
        "Femur\nB. Tibia\nC. Humerus\nD. Fibula\nAnswer:");
}

TEST_CASE("prompt: WinoGrande multiple inputs") {
  // Shot: context of its gold option + td + shared target + fd; eval: one prompt per option context.
  const FewshotExample shot{"Tom gave Bob a gift because Tom", "was generous."};
  const std::vector<std::string> contexts{"Sarah was a much better surgeon than Maria so Sarah",
                                          "Sarah was a much better surgeon than Maria so Maria"};
  const auto prompts = build_multiple_input_prompts(format_with(), {shot}, contexts, Profile::Pt);
  REQUIRE(prompts.size() == 2);
  CHECK(prompts[0] ==
        "Tom gave Bob a gift because Tom was generous.\n\nSarah was a much better surgeon than Maria so Sarah");
  CHECK(prompts[1] ==
        "Tom gave Bob a gift because Tom was generous.\n\nSarah was a much better surgeon than Maria so Maria");
  CHECK(build_multiple_input_prompts(format_with(), {}, contexts, Profile::Pt) == contexts);
}

TEST_CASE("prompt: multiturn_to_singleturn") {
  const auto collapsed =
      collapse_to_single_user_turn({{"user", "Q1", " "}, {"assistant", "A1", "\n\n"}, {"user", "Q2", ""}});
  REQUIRE(collapsed.size() == 1);
  CHECK(collapsed[0].role == "user");
  CHECK(collapsed[0].content == "Q1 A1\n\nQ2");

  const auto with_system = collapse_to_single_user_turn({{"system", "You are helpful", ""}, {"user", "Question", ""}});
  REQUIRE(with_system.size() == 2);
  CHECK(with_system[0].role == "system");
  CHECK(with_system[0].content == "You are helpful");
  CHECK(with_system[1].content == "Question");

  CHECK_THROWS_AS(collapse_to_single_user_turn({{"user", "Q", " "}, {"assistant", "P", ""}}), gemma::Error);
}

TEST_CASE("prompt: the it profile renders one user turn with the Gemma 3 chat template, BOS stripped") {
  CHECK(build_prompt(format_with(), {{"Q1", "A1"}}, "Q2", Profile::It) ==
        "<start_of_turn>user\nQ1 A1\n\nQ2<end_of_turn>\n<start_of_turn>model\n");
  // The description is lm-eval's system message; Gemma 3 prepends it + "\n\n" to the user turn,
  // whose content the template trims.
  CHECK(build_prompt(format_with("Answer briefly."), {}, "  2+2?\n", Profile::It) ==
        "<start_of_turn>user\nAnswer briefly.\n\n2+2?<end_of_turn>\n<start_of_turn>model\n");
  const auto winogrande = build_multiple_input_prompts(format_with(), {{"A so B", "c."}}, {"X so Y"}, Profile::It);
  REQUIRE(winogrande.size() == 1);
  CHECK(winogrande[0] == "<start_of_turn>user\nA so B c.\n\nX so Y<end_of_turn>\n<start_of_turn>model\n");
}

TEST_CASE("prompt: the it profile renders through the model folder's chat template when given one") {
  // A fine-tune's template (tokenizer_config.json chat_template), rendered by the Jinja engine.
  const gemma::ChatTemplate custom = gemma::ChatTemplate::from_source(
      "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}"
      "{% if add_generation_prompt %}[model]{% endif %}",
      {{"bos_token", "<bos>"}}, "custom chat_template");
  CHECK(build_prompt(format_with("Be brief."), {{"Q1", "A1"}}, "Q2", Profile::It, custom.renderer()) ==
        "[system]Be brief.[user]Q1 A1\n\nQ2[model]");
  const auto winogrande =
      build_multiple_input_prompts(format_with(), {{"A so B", "c."}}, {"X so Y"}, Profile::It, custom.renderer());
  REQUIRE(winogrande.size() == 1);
  CHECK(winogrande[0] == "[user]A so B c.\n\nX so Y[model]");
  // The plain-text profile ignores it; a template that does not start with the BOS text is refused.
  CHECK(build_prompt(format_with(), {}, "Q", Profile::Pt, custom.renderer()) == "Q");
  const gemma::ChatTemplate no_bos = gemma::ChatTemplate::from_source("{{ messages[0].content }}", {}, "t");
  CHECK_THROWS_WITH(build_prompt(format_with(), {}, "Q", Profile::It, no_bos.renderer()),
                    Catch::Matchers::Contains("did not start with <bos>"));
  // The model's own Gemma 3 template (the built-in one's twin) gives the built-in prompt.
  CHECK(build_prompt(format_with("Answer briefly."), {}, "  2+2?\n", Profile::It,
                     gemma::ChatTemplate::builtin().renderer()) ==
        "<start_of_turn>user\nAnswer briefly.\n\n2+2?<end_of_turn>\n<start_of_turn>model\n");
}

TEST_CASE("prompt: multiple-choice continuation delimiter per profile") {
  CHECK(choice_delimiter(" ", Profile::Pt) == " ");
  CHECK(choice_delimiter("", Profile::Pt) == "");
  CHECK(choice_delimiter(" ", Profile::It) == "");
}
