// BIG-Bench Hard, chain-of-thought 3-shot (lm-eval tasks/bbh/cot_fewshot/*): 27 subtasks.
// Data: suzgunmirac/BIG-Bench-Hard as in data_dir/bbh/ (MANIFEST.md): bbh/<subtask>.json, one JSON
// object {"canary", "examples": [{input, target}, ...]}, and cot-prompts/<subtask>.txt, the paper's
// 3 CoT exemplars ("-----" header, description, then "Q: ...\nA: Let's think step by step.\n<CoT>"
// blocks). lm-eval's YAMLs were generated from those same prompt files: description = the text before
// the first "Q: ", shot input = the question, shot target = the CoT after "A: Let's think step by step."
// and its line break (a space in sports_understanding).
#include <fmt/format.h>

#include "common/error.h"
#include "common/python_text.h"
#include "common/utf8.h"
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/reasoning.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"

namespace gemma::evals::tasks {
namespace {

constexpr std::string_view kAnswerLead = "\nA: Let's think step by step.";

// lm-eval's per-subtask `description` (= the cot-prompts text before the first "Q: "); the tests
// check each against the prompt file. The order is alphabetical.
const std::pair<const char*, const char*> kSubtasks[] = {
    {"boolean_expressions", "Evaluate the result of a random Boolean expression.\n\n"},
    {"causal_judgement", "Answer questions about causal attribution.\n\n"},
    {"date_understanding", "Infer the date from context.\n\n"},
    {"disambiguation_qa", "Clarify the meaning of sentences with ambiguous pronouns.\n\n"},
    {"dyck_languages", "Correctly close a Dyck-n word.\n\n"},
    {"formal_fallacies", "Distinguish deductively valid arguments from formal fallacies.\n\n"},
    {"geometric_shapes", "Name geometric shapes from their SVG paths.\n\n"},
    {"hyperbaton", "Order adjectives correctly in English sentences.\n\n"},
    {"logical_deduction_five_objects",
     "A logical deduction task which requires deducing the order of a sequence of objects.\n\n"},
    {"logical_deduction_seven_objects",
     "A logical deduction task which requires deducing the order of a sequence of objects.\n\n"},
    {"logical_deduction_three_objects",
     "A logical deduction task which requires deducing the order of a sequence of objects.\n\n"},
    {"movie_recommendation", "Recommend movies similar to the given list of movies.\n\n"},
    {"multistep_arithmetic_two", "Solve multi-step arithmetic problems.\n\n"},
    {"navigate",
     "Given a series of navigation instructions, determine whether one would end up back at the starting point.\n\n"},
    {"object_counting", "Questions that involve enumerating objects and asking the model to count them.\n\n"},
    {"penguins_in_a_table", "Answer questions about a table of penguins and their attributes.\n\n"},
    {"reasoning_about_colored_objects",
     "Answer extremely simple questions about the colors of objects on a surface.\n\n"},
    {"ruin_names", "Select the humorous edit that 'ruins' the input movie or musical artist name.\n\n"},
    {"salient_translation_error_detection",
     "Detect the type of error in an English translation of a German source sentence.\n\n"},
    {"snarks",
     "Determine which of two sentences is sarcastic.\n\nAccording to Cambridge University Dictionary, sarcasm is \"the "
     "use of remarks that clearly mean the opposite of what they say, made in order to hurt someone's feelings or to "
     "criticize something in a humorous way.\" Sarcastic sentences often contain satirical or ironic utterances, "
     "hyperboles, ambivalent or witty remarks.\n\n"},
    {"sports_understanding",
     "Determine whether an artificially constructed sentence relating to sports is plausible or not.\n\n"},
    {"temporal_sequences",
     "Task description: Answer questions about which times certain events could have occurred.\n\n"},
    {"tracking_shuffled_objects_five_objects",
     "A task requiring determining the final positions of a set of objects given their initial positions and a "
     "description of a sequence of swaps.\n\n"},
    {"tracking_shuffled_objects_seven_objects",
     "A task requiring determining the final positions of a set of objects given their initial positions and a "
     "description of a sequence of swaps.\n\n"},
    {"tracking_shuffled_objects_three_objects",
     "A task requiring determining the final positions of a set of objects given their initial positions and a "
     "description of a sequence of swaps.\n\n"},
    {"web_of_lies", "Evaluate a random boolean function expressed as a word problem.\n\n"},
    {"word_sorting", "Sort a list of words.\n\n"},
};

// The files are one line of JSON, so a bad example is named by its index in "examples".
const std::string& example_field(const Doc& row, const char* field, const std::string& file, size_t index) {
  const auto it = row.is_object() ? row.find(field) : row.end();
  if (!row.is_object() || it == row.end() || !it->is_string())
    fail("{}:1: examples[{}]: field \"{}\": {}", file, index, field,
         !row.is_object() || it == row.end() ? "missing" : "expected a string");
  return it->get_ref<const std::string&>();
}

DocSplit load_bbh_examples(const std::filesystem::path& data_dir, const std::string& subtask) {
  SourceFile file = read_source(data_dir / "bbh" / "bbh" / (subtask + ".json"));
  Doc root;
  try {
    root = Doc::parse(file.bytes);
  } catch (const nlohmann::json::parse_error& e) {
    fail("{}:1: not valid JSON: {}", file.info.path, e.what());
  }
  const RowSource top{file.info.path, 1};
  if (!root.is_object() || !root.contains("examples") || !root.at("examples").is_array())
    fail_field(top, "examples", "expected a JSON object with an \"examples\" array");
  DocSplit out;
  out.name = "test";
  for (const Doc& row : root.at("examples")) {
    Doc doc;
    doc["input"] = example_field(row, "input", file.info.path, out.docs.size());
    doc["target"] = example_field(row, "target", file.info.path, out.docs.size());
    out.docs.push_back(std::move(doc));
  }
  file.info.rows = out.docs.size();
  out.files.push_back(std::move(file.info));
  return out;
}

// The 3 exemplars of cot-prompts/<subtask>.txt as lm-eval's fewshot_config.samples {input, target}.
DocSplit load_bbh_shots(const std::filesystem::path& data_dir, const std::string& subtask) {
  SourceFile file = read_source(data_dir / "bbh" / "cot-prompts" / (subtask + ".txt"));
  const std::string_view text = file.bytes;
  const size_t header_end = text.find("-----\n");
  const size_t first_q = text.find("\n\nQ: ", header_end);
  if (header_end == std::string_view::npos || first_q == std::string_view::npos)
    fail("{}: expected a \"-----\" header line and then \"Q: \" exemplars", file.info.path);
  DocSplit out;
  out.name = "fewshot_config.samples";
  size_t pos = first_q + 2;
  while (pos < text.size()) {
    const size_t next = text.find("\n\nQ: ", pos);
    const std::string_view block = text.substr(pos, next == std::string_view::npos ? next : next - pos);
    const size_t lead = block.find(kAnswerLead);
    // The CoT follows the lead on its own line, except in sports_understanding where it follows on
    // the same line after a space; lm-eval's current YAMLs drop the lead and that one separator.
    const size_t cot = lead + kAnswerLead.size() + 1;
    if (block.substr(0, 3) != "Q: " || lead == std::string_view::npos || cot > block.size() ||
        (block[cot - 1] != '\n' && block[cot - 1] != ' '))
      fail("{}: exemplar {}: expected \"Q: <input>\\nA: Let's think step by step.\\n<chain of thought>\"",
           file.info.path, out.docs.size() + 1);
    Doc doc;
    doc["input"] = std::string(block.substr(3, lead - 3));
    doc["target"] = std::string(block.substr(cot));
    out.docs.push_back(std::move(doc));
    pos = next == std::string_view::npos ? text.size() : next + 2;
  }
  if (out.docs.size() != 3) fail("{}: expected 3 exemplars, found {}", file.info.path, out.docs.size());
  file.info.rows = out.docs.size();
  out.files.push_back(std::move(file.info));
  return out;
}

TaskSpec bbh_task(const std::string& subtask, const std::string& description) {
  TaskSpec t = new_task("bbh_cot_fewshot_" + subtask, 3, OutputType::GenerateUntil, 3, ShotSampler::FirstN);
  t.groups = {"bbh_cot_fewshot"};  // lm-eval's group: exact_match micro-averaged (weight_by_size)
  t.description = description;
  t.target_delimiter = "";  // doc_to_text already ends in "\n"
  t.fewshot_delimiter = "\n\n";
  t.load_eval = [subtask](const std::filesystem::path& dir) { return load_bbh_examples(dir, subtask); };
  t.load_fewshot = [subtask](const std::filesystem::path& dir) { return load_bbh_shots(dir, subtask); };
  t.sampler_gets_eval_doc = false;
  t.doc_to_text = [](const Doc& doc) {
    return "Q: " + doc.at("input").get<std::string>() + "\nA: Let's think step by step.\n";
  };
  t.doc_to_target = [](const Doc& doc) { return doc.at("target").get<std::string>(); };
  t.doc_to_references = [](const Doc& doc) { return std::vector<std::string>{doc.at("target").get<std::string>()}; };
  t.until = {"</s>", "Q", "\n\n"};  // the bare "Q" is lm-eval's: it cuts any generated capital Q
  t.max_gen_toks = 1024;
  FilterStep extract;
  extract.kind = FilterStep::Kind::Function;
  extract.function = bbh_extract_answer;                  // the pattern's lookarounds are beyond RE2
  t.filters = {{"get-answer", {extract, FilterStep{}}}};  // FilterStep{} = take_first
  t.metrics = {registry_metric("exact_match")};           // no normalisation: "(C)" must equal "(C)"
  return t;
}

}  // namespace

std::optional<std::string> first_answer_after(std::string_view response, std::string_view lead) {
  for (size_t at = response.find(lead); at != std::string_view::npos; at = response.find(lead, at + 1)) {
    const size_t start = at + lead.size();
    const size_t line_end = std::min(response.find('\n', start), response.size());
    if (line_end == start) continue;  // (?=.) needs one more character on the line
    // Greedy (.*) gives back exactly one code point to the lookahead.
    size_t last = line_end - 1;
    while (last > start && is_utf8_continuation(static_cast<unsigned char>(response[last]))) --last;
    return python_strip(response.substr(start, last - start));
  }
  return std::nullopt;
}

std::optional<std::string> bbh_extract_answer(std::string_view response) {
  return first_answer_after(response, "the answer is ");
}

const std::vector<std::string>& bbh_subtasks() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& subtask : kSubtasks) out.emplace_back(subtask.first);
    return out;
  }();
  return names;
}

namespace {

std::vector<TaskSpec> bbh_tasks() {
  std::vector<TaskSpec> tasks;
  for (const auto& [name, description] : kSubtasks) tasks.push_back(bbh_task(name, description));
  return tasks;
}

}  // namespace

const TaskRegistration kBbhRegistration{1100, &bbh_tasks};

}  // namespace gemma::evals::tasks
