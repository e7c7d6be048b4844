// GSM8K (lm-eval tasks/gsm8k): `gsm8k` (random train shots showing the full worked
// answer) and `gsm8k_cot` (the 8 fixed Wei et al. exemplars). Data: openai/grade-school-math,
// data_dir/gsm8k/{test,train}.jsonl with {question, answer}; answers end in "#### <number>".
#include "common/python_text.h"
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"

namespace gemma::evals::tasks {
namespace {

Doc gsm8k_doc(const Doc& row, const RowSource& at) {
  Doc doc;
  doc["question"] = string_field(row, "question", at);
  doc["answer"] = string_field(row, "answer", at);
  return doc;
}

DocSplit load_gsm8k(const std::filesystem::path& dir, const std::string& split) {
  return jsonl_split(split, dir / "gsm8k" / (split + ".jsonl"), gsm8k_doc);
}

// The pipelines and metric both variants share, except for the strict pattern.
void set_scoring(TaskSpec& t, const std::string& strict_pattern) {
  using Kind = FilterStep::Kind;
  t.filters = {
      {"strict-match", {{Kind::Regex, strict_pattern, 0, "[invalid]"}, {Kind::TakeFirst, "", 0, "[invalid]"}}},
      {"flexible-extract",
       {{Kind::Regex, R"((-?[$0-9.,]{2,})|(-?[0-9]+))", -1, "[invalid]"}, {Kind::TakeFirst, "", 0, "[invalid]"}}},
  };
  t.metrics = {registry_metric("exact_match", "",
                               {{"ignore_case", true},
                                {"ignore_punctuation", false},
                                {"regexes_to_ignore", {",", R"(\$)", "(?s).*#### ", R"(\.$)"}}})};
}

TaskSpec gsm8k_base(const std::string& name) {
  // 8 shots: the Gemma 3 card (lm-eval's own default for `gsm8k` is 5).
  TaskSpec t = new_task(name, 3, OutputType::GenerateUntil, 8);
  t.load_eval = [](const std::filesystem::path& dir) { return load_gsm8k(dir, "test"); };
  t.max_gen_toks = 256;
  return t;
}

// lm-eval gsm8k-cot.yaml fewshot_config.samples, verbatim (the rendered 8-shot prompt matches the
// SHA-256 of the prompt lm-eval renders (lm_eval/api/task.py::fewshot_context@4e7e0d47)).
const char* const kCotExemplars[8][2] = {
    {"There are 15 trees in the grove. Grove workers will plant trees in the grove today. After they are done, "
     "there will be 21 trees. How many trees did the grove workers plant today?",
     "There are 15 trees originally. Then there were 21 trees after some more were planted. So there must have "
     "been 21 - 15 = 6. The answer is 6."},
    {"If there are 3 cars in the parking lot and 2 more cars arrive, how many cars are in the parking lot?",
     "There are originally 3 cars. 2 more cars arrive. 3 + 2 = 5. The answer is 5."},
    {"Leah had 32 chocolates and her sister had 42. If they ate 35, how many pieces do they have left in total?",
     "Originally, Leah had 32 chocolates. Her sister had 42. So in total they had 32 + 42 = 74. After eating 35, "
     "they had 74 - 35 = 39. The answer is 39."},
    {"Jason had 20 lollipops. He gave Denny some lollipops. Now Jason has 12 lollipops. How many lollipops did "
     "Jason give to Denny?",
     "Jason started with 20 lollipops. Then he had 12 after giving some to Denny. So he gave Denny 20 - 12 = 8. "
     "The answer is 8."},
    {"Shawn has five toys. For Christmas, he got two toys each from his mom and dad. How many toys does he have "
     "now?",
     "Shawn started with 5 toys. If he got 2 toys each from his mom and dad, then that is 4 more toys. 5 + 4 = 9. "
     "The answer is 9."},
    {"There were nine computers in the server room. Five more computers were installed each day, from monday to "
     "thursday. How many computers are now in the server room?",
     "There were originally 9 computers. For each of 4 days, 5 more computers were added. So 5 * 4 = 20 "
     "computers were added. 9 + 20 is 29. The answer is 29."},
    {"Michael had 58 golf balls. On tuesday, he lost 23 golf balls. On wednesday, he lost 2 more. How many golf "
     "balls did he have at the end of wednesday?",
     "Michael started with 58 golf balls. After losing 23 on tuesday, he had 58 - 23 = 35. After losing 2 more, "
     "he had 35 - 2 = 33 golf balls. The answer is 33."},
    {"Olivia has $23. She bought five bagels for $3 each. How much money does she have left?",
     "Olivia had 23 dollars. 5 bagels for 3 dollars each will be 5 x 3 = 15 dollars. So she has 23 - 15 dollars "
     "left. 23 - 15 is 8. The answer is 8."},
};

// answer.split('####')[-1].strip() for dataset docs; the exemplars carry `target` instead.
std::string cot_target(const Doc& doc) {
  if (!doc.contains("answer")) return doc.at("target").get<std::string>();
  const std::string_view answer = doc.at("answer").get_ref<const std::string&>();
  size_t last_piece = 0;  // Python's split scans left to right without overlaps: "#####5" -> "#5"
  for (size_t hit = answer.find("####"); hit != std::string_view::npos; hit = answer.find("####", last_piece))
    last_piece = hit + 4;
  return python_strip(answer.substr(last_piece));
}

TaskSpec gsm8k_task() {
  TaskSpec t = gsm8k_base("gsm8k");
  t.sampler = ShotSampler::Random;
  t.load_fewshot = [](const std::filesystem::path& dir) { return load_gsm8k(dir, "train"); };
  t.sampler_gets_eval_doc = false;  // fewshot_split train != test_split: draws n
  t.doc_to_text = [](const Doc& doc) { return "Question: " + doc.at("question").get<std::string>() + "\nAnswer:"; };
  // Shots show the whole worked answer, "<<...>>" annotations and "#### N" included; the reference
  // is that same text (exact_match's "(?s).*#### " then strips it to the number).
  t.doc_to_target = [](const Doc& doc) { return doc.at("answer").get<std::string>(); };
  t.doc_to_references = [](const Doc& doc) { return std::vector<std::string>{doc.at("answer").get<std::string>()}; };
  t.until = {"Question:", "</s>", "<|im_end|>"};
  set_scoring(t, R"(#### (\-?[0-9\.\,]+))");
  return t;
}

TaskSpec gsm8k_cot_task() {
  TaskSpec t = gsm8k_base("gsm8k_cot");
  // Fixed shots: the "shot split" is the 8 exemplars in order, taken first-n.
  t.sampler = ShotSampler::FirstN;
  t.load_fewshot = [](const std::filesystem::path&) {
    DocSplit split;
    split.name = "fewshot_config.samples";
    for (const auto& exemplar : kCotExemplars) {
      Doc doc;
      doc["question"] = exemplar[0];
      doc["target"] = exemplar[1];
      split.docs.push_back(std::move(doc));
    }
    return split;  // no files: the exemplars are part of the task definition
  };
  t.sampler_gets_eval_doc = false;
  t.doc_to_text = [](const Doc& doc) { return "Q: " + doc.at("question").get<std::string>() + "\nA:"; };
  t.doc_to_target = cot_target;
  t.doc_to_references = [](const Doc& doc) { return std::vector<std::string>{cot_target(doc)}; };
  t.until = {"Q:", "</s>", "<|im_end|>"};
  set_scoring(t, R"(The answer is (\-?[0-9\.\,]+).)");
  return t;
}

}  // namespace

const TaskRegistration kGsm8kRegistration{900, &gsm8k_task};
const TaskRegistration kGsm8kCotRegistration{1000, &gsm8k_cot_task};

}  // namespace gemma::evals::tasks
