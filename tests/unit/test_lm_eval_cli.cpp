// lm-eval's command-line values (evals/lm_eval_args.h) and lm-eval's --fewshot_as_multiturn and
// --system_instruction prompts (evals/prompt.h), each against what lm-eval itself does.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/error.h"
#include "evals/lm_eval_args.h"
#include "evals/prompt.h"

using namespace gemma;
using namespace gemma::evals;
using Catch::Contains;

// ---------------------------------------------------------------- --model_args, --gen_kwargs

TEST_CASE("--model_args: pretrained, dtype, device and max_length; other keys refused by name", "[lm_eval_cli]") {
  const LmEvalModelArgs args = parse_model_args("pretrained=google/gemma-3-1b-pt,dtype=bfloat16,device=cpu");
  CHECK(args.pretrained == "google/gemma-3-1b-pt");
  CHECK(args.dtype == "bfloat16");
  CHECK(args.device == "cpu");
  CHECK_FALSE(args.max_length);
  CHECK(parse_model_args("pretrained=/models/a=b").pretrained == "/models/a=b");  // split at the first '='
  CHECK(parse_model_args("max_length=2048").max_length == 2048);
  CHECK_THROWS_WITH(parse_model_args("pretrained=x,trust_remote_code=True"),
                    Contains("unknown key 'trust_remote_code'") && Contains("pretrained, dtype, device"));
  CHECK_THROWS_WITH(parse_model_args("pretrained"), Contains("key=value"));
  CHECK_THROWS_WITH(parse_model_args("max_length=-3"), Contains("max_length=-3"));
}

TEST_CASE("--gen_kwargs: max_gen_toks and until replace the task's; greedy settings accepted, sampling refused",
          "[lm_eval_cli]") {
  const GenerationOverrides overrides = parse_gen_kwargs("max_gen_toks=64,until=###,do_sample=False,temperature=0");
  CHECK(overrides.max_gen_toks == 64);
  REQUIRE(overrides.until);
  CHECK(*overrides.until == std::vector<std::string>{"###"});
  CHECK(parse_gen_kwargs("").empty());
  CHECK(parse_gen_kwargs("temperature=0.0,do_sample=false").empty());
  CHECK_THROWS_WITH(parse_gen_kwargs("do_sample=True"), Contains("sampling is not supported"));
  CHECK_THROWS_WITH(parse_gen_kwargs("temperature=0.7"), Contains("only temperature=0"));
  CHECK_THROWS_WITH(parse_gen_kwargs("top_p=0.9"), Contains("unknown key 'top_p'"));
  CHECK_THROWS_WITH(parse_gen_kwargs("max_gen_toks=lots"), Contains("max_gen_toks=lots"));
}

// ---------------------------------------------------------------- --seed, --limit, --batch_size

TEST_CASE("--seed: one value sets lm-eval's four seeds; four values are random,numpy,torch,fewshot", "[lm_eval_cli]") {
  const LmEvalSeeds one = parse_seeds("42");
  CHECK(one.random == 42u);
  CHECK(one.numpy == 42u);
  CHECK(one.torch == 42u);
  CHECK(one.fewshot == 42u);
  const LmEvalSeeds four = parse_seeds("0,1,2,3");
  CHECK(four.random == 0u);
  CHECK(four.numpy == 1u);
  CHECK(four.torch == 2u);
  CHECK(four.fewshot == 3u);
  CHECK_FALSE(parse_seeds("None,1234,1234,7").random);
  CHECK(LmEvalSeeds{}.random == 0u);  // lm-eval's default "0,1234,1234,1234"
  CHECK(LmEvalSeeds{}.fewshot == 1234u);
  CHECK_THROWS_WITH(parse_seeds("1,2"), Contains("four"));
  CHECK_THROWS_WITH(parse_seeds("-1"), Contains("'-1'"));
}

TEST_CASE("--limit: a count, or a fraction below 1.0 rounded up as lm-eval's math.ceil", "[lm_eval_cli]") {
  CHECK(parse_limit("10").count == 10u);
  CHECK(parse_limit("100.0").count == 100u);
  const DocLimit tenth = parse_limit("0.1");
  REQUIRE(tenth.fraction);
  CHECK(limited_count(tenth, 1172) == 118);  // ceil(117.2)
  CHECK(limited_count(tenth, 5) == 1);
  CHECK(limited_count(parse_limit("0.5"), 10) == 5);
  CHECK(limited_count(parse_limit("20"), 10) == 10);
  CHECK_THROWS_WITH(parse_limit("2.5"), Contains("--limit 2.5"));
  CHECK_THROWS_WITH(parse_limit("-0.5"), Contains("fraction"));
  CHECK_THROWS_WITH(parse_limit("lots"), Contains("--limit lots"));
  CHECK(parse_limit("1e3").count == 1000u);                          // Python float("1e3")
  CHECK_THROWS_WITH(parse_limit("0x10"), Contains("--limit 0x10"));  // float("0x10") is a ValueError
}

TEST_CASE("--batch_size: a positive integer or auto; no error echoes a 300-digit number", "[lm_eval_cli]") {
  CHECK(parse_batch_size("8") == 8);
  CHECK_FALSE(parse_batch_size("auto"));
  CHECK_THROWS_WITH(parse_batch_size("0"), Contains("or auto"));
  const std::string huge(300, '9');
  try {
    parse_batch_size(huge);
    FAIL("accepted a 300-digit batch size");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Contains("300 characters"));
    CHECK(std::string(e.what()).find(std::string(60, '9')) == std::string::npos);
  }
}

// ---------------------------------------------------------------- names, timestamps, patterns

TEST_CASE("lm-eval's sanitize_model_name and file timestamp", "[lm_eval_cli]") {
  // lm_eval/utils.py: re.sub(r"[\"<>:/\|\\?\*\[\]]+", "__", model_name)
  CHECK(sanitize_model_name("google/gemma-3-1b-pt") == "google__gemma-3-1b-pt");
  CHECK(sanitize_model_name("/models//gemma") == "__models__gemma");
  CHECK(sanitize_model_name("a:b|c") == "a__b__c");
  // datetime.isoformat() with ':' replaced: microseconds only when non-zero.
  setenv("TZ", "UTC", 1);
  tzset();
  CHECK(file_timestamp(1714566896123456LL) == "2024-05-01T12-34-56.123456");
  CHECK(file_timestamp(1714566896000000LL) == "2024-05-01T12-34-56");
}

TEST_CASE("task name patterns follow Python's fnmatch", "[lm_eval_cli]") {
  CHECK(fnmatch("mmlu_anatomy", "mmlu_*"));
  CHECK_FALSE(fnmatch("mmlu", "mmlu_*"));
  CHECK(fnmatch("arc_easy", "arc_?asy"));
  CHECK(fnmatch("arc_easy", "arc_[de]asy"));
  CHECK_FALSE(fnmatch("arc_easy", "arc_[!e]asy"));
  CHECK(has_wildcard("mmlu_*"));
  CHECK_FALSE(has_wildcard("mmlu"));
}

TEST_CASE("an unknown flag names the closest known one", "[lm_eval_cli]") {
  const std::vector<std::string> flags{"--num_fewshot", "--output_path", "--log_samples", "--tasks", "--limit"};
  CHECK(closest_name("--num-fewshot", flags) == "--num_fewshot");
  CHECK(closest_name("--num_fewshots", flags) == "--num_fewshot");
  CHECK(closest_name("--taks", flags) == "--tasks");
  CHECK(closest_name("--completely-different", flags).empty());
}

// ---------------------------------------------------------------- fewshot_as_multiturn, system_instruction
// lm-eval api/task.py fewshot_context: system_prompt = maybe_delimit(system_instruction, description,
// fewshot_delimiter) becomes Message("system", ...); each shot is build_qa_turn(q, a) = [user q (delimiter
// target_delimiter), assistant a (delimiter fewshot_delimiter)]; the doc is build_qa_turn(q) = [user q]. Then
//   apply_chat_template and fewshot_as_multiturn: chat_template([m.to_dict() for m in messages])
//   apply_chat_template alone:                    chat_template(multiturn_to_singleturn(messages))
//   neither:                                      "".join(m.to_text()) (content + delimiter)
// The Gemma 3 template (tokenizer_config.json chat_template) puts a leading system message's content + "\n\n"
// at the start of the first user turn, names the assistant "model", trims every content and ends each turn
// with "<end_of_turn>\n"; add_generation_prompt appends "<start_of_turn>model\n". The engine adds BOS itself,
// so the rendered "<bos>" is not part of the context.

namespace {
PromptFormat format_of(std::string system_instruction, std::string description, bool multiturn) {
  PromptFormat format;
  format.system_instruction = std::move(system_instruction);
  format.description = std::move(description);
  format.fewshot_as_multiturn = multiturn;
  return format;
}
const std::vector<FewshotExample> kShots{{"Q: 1+1?\nA:", "2"}, {"Q: 2+2?\nA:", "4"}};
}  // namespace

TEST_CASE("fewshot_as_multiturn: each shot its own user and model turn", "[lm_eval_cli][prompt]") {
  CHECK(build_prompt(format_of("", "", true), kShots, "Q: 3+3?\nA:", Profile::It) ==
        "<start_of_turn>user\nQ: 1+1?\nA:<end_of_turn>\n"
        "<start_of_turn>model\n2<end_of_turn>\n"
        "<start_of_turn>user\nQ: 2+2?\nA:<end_of_turn>\n"
        "<start_of_turn>model\n4<end_of_turn>\n"
        "<start_of_turn>user\nQ: 3+3?\nA:<end_of_turn>\n"
        "<start_of_turn>model\n");
  // Without it the shots collapse into one user turn (contents joined with their delimiters).
  CHECK(build_prompt(format_of("", "", false), kShots, "Q: 3+3?\nA:", Profile::It) ==
        "<start_of_turn>user\nQ: 1+1?\nA: 2\n\nQ: 2+2?\nA: 4\n\nQ: 3+3?\nA:<end_of_turn>\n<start_of_turn>model\n");
  // Plain text is the same either way.
  CHECK(build_prompt(format_of("", "", true), kShots, "Q: 3+3?\nA:", Profile::Pt) ==
        build_prompt(format_of("", "", false), kShots, "Q: 3+3?\nA:", Profile::Pt));
}

TEST_CASE("system_instruction: joined with the description by the few-shot delimiter", "[lm_eval_cli][prompt]") {
  // maybe_delimit("Be exact.", "Arithmetic.\n", "\n\n"): no whitespace at the boundary -> joined with "\n\n".
  // The template trims the user content, not the system text before it: its "\n" stays before the "\n\n".
  CHECK(build_prompt(format_of("Be exact.", "Arithmetic.\n", true), kShots, "Q: 3+3?\nA:", Profile::It) ==
        "<start_of_turn>user\nBe exact.\n\nArithmetic.\n\n\nQ: 1+1?\nA:<end_of_turn>\n"
        "<start_of_turn>model\n2<end_of_turn>\n"
        "<start_of_turn>user\nQ: 2+2?\nA:<end_of_turn>\n"
        "<start_of_turn>model\n4<end_of_turn>\n"
        "<start_of_turn>user\nQ: 3+3?\nA:<end_of_turn>\n"
        "<start_of_turn>model\n");
  // Plain text: the system message's to_text() has no delimiter of its own.
  CHECK(build_prompt(format_of("Be exact.", "", false), {}, "Q: 3+3?\nA:", Profile::Pt) == "Be exact.Q: 3+3?\nA:");
  CHECK(build_prompt(format_of("Be exact.", "", false), {}, "Q: 3+3?\nA:", Profile::It) ==
        "<start_of_turn>user\nBe exact.\n\nQ: 3+3?\nA:<end_of_turn>\n<start_of_turn>model\n");
}

TEST_CASE("fewshot_as_multiturn: multiple-input tasks keep the shots as turns too", "[lm_eval_cli][prompt]") {
  const auto prompts =
      build_multiple_input_prompts(format_of("", "", true), {{"A so B", "c."}}, {"X so Y"}, Profile::It);
  REQUIRE(prompts.size() == 1);
  CHECK(prompts[0] ==
        "<start_of_turn>user\nA so B<end_of_turn>\n<start_of_turn>model\nc.<end_of_turn>\n"
        "<start_of_turn>user\nX so Y<end_of_turn>\n<start_of_turn>model\n");
}
