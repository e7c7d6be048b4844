// MATH with the 4 Minerva shots (lm-eval tasks/minerva_math/{*.yaml,utils.py}): one task
// per subject, group minerva_math micro-averaged over the 5,000 test problems. Data: the hendrycks/math
// tarball layout, data_dir/math/MATH/test/<subject>/<n>.json = {problem, level, type, solution}
// (lm-eval reads EleutherAI/hendrycks_math, the same records); docs are taken in that dataset's order.
// Scoring (utils.process_results): the generation's "Final Answer: The final answer is ... I hope it
// is correct." sentence, normalize_final_answer'ed, against the gold \boxed{} answer normalised the
// same way, compared by lm-eval's is_equiv (sympy parse_latex + simplify; here GiNaC,
// scorers/latex_sympy_equivalence.h).
#include <algorithm>

#include "common/error.h"
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/reasoning.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"
#include "scorers/math_answer.h"

namespace gemma::evals::tasks {
namespace {

// utils.list_fewshot_samples, verbatim: the stray "}" and double space of the first problem and the
// single "\" before the line breaks inside align* (Python "\\\n") are lm-eval's text; the rendered
// 4-shot prompt matches the SHA-256 of the prompt lm-eval renders (lm_eval/api/task.py::fewshot_context@4e7e0d47).
const char* const kMinervaShots[4][2] = {
    {"Find the domain of the expression  $\\frac{\\sqrt{x-2}}{\\sqrt{5-x}}$.}",
     "The expressions inside each square root must be non-negative. Therefore, $x-2 \\ge 0$, so $x\\ge2$, and "
     "$5 - x \\ge 0$, so $x \\le 5$. Also, the denominator cannot be equal to zero, so $5-x>0$, which gives $x<5$. "
     "Therefore, the domain of the expression is $\\boxed{[2,5)}$.\nFinal Answer: The final answer is $[2,5)$. I "
     "hope it is correct."},
    {"If $\\det \\mathbf{A} = 2$ and $\\det \\mathbf{B} = 12,$ then find $\\det (\\mathbf{A} \\mathbf{B}).$",
     "We have that $\\det (\\mathbf{A} \\mathbf{B}) = (\\det \\mathbf{A})(\\det \\mathbf{B}) = (2)(12) = "
     "\\boxed{24}.$\nFinal Answer: The final answer is $24$. I hope it is correct."},
    {"Terrell usually lifts two 20-pound weights 12 times. If he uses two 15-pound weights instead, how many times "
     "must Terrell lift them in order to lift the same total weight?",
     "If Terrell lifts two 20-pound weights 12 times, he lifts a total of $2\\cdot 12\\cdot20=480$ pounds of weight. "
     " If he lifts two 15-pound weights instead for $n$ times, he will lift a total of $2\\cdot15\\cdot n=30n$ "
     "pounds of weight.  Equating this to 480 pounds, we can solve for $n$:\n\\begin{align*}\n30n&=480\\\n"
     "\\Rightarrow\\qquad n&=480/30=\\boxed{16}\n\\end{align*}\nFinal Answer: The final answer is $16$. I hope it "
     "is correct."},
    {"If the system of equations\n\n\\begin{align*}\n6x-4y&=a,\\\n6y-9x &=b.\n\\end{align*}has a solution $(x, "
     "y)$ where $x$ and $y$ are both nonzero,\nfind $\\frac{a}{b},$ assuming $b$ is nonzero.",
     "If we multiply the first equation by $-\\frac{3}{2}$, we obtain\n\n$$6y-9x=-\\frac{3}{2}a.$$Since we also "
     "know that $6y-9x=b$, we have\n\n$$-\\frac{3}{2}a=b\\Rightarrow\\frac{a}{b}=\\boxed{-\\frac{2}{3}}.$$\nFinal "
     "Answer: The final answer is $-\\frac{2}{3}$. I hope it is correct."},
};

// utils.process_docs: answer = normalize_final_answer(remove_boxed(last_boxed_only_string(solution))).
Doc math_doc(const Doc& row, const RowSource& at) {
  Doc doc;
  doc["problem"] = string_field(row, "problem", at);
  doc["level"] = string_field(row, "level", at);
  doc["type"] = string_field(row, "type", at);
  const std::string& solution = string_field(row, "solution", at);
  doc["solution"] = solution;
  const auto boxed = scorers::last_boxed_only_string(solution);
  const auto answer = boxed ? scorers::remove_boxed(*boxed) : std::nullopt;
  if (!answer) fail_field(at, "solution", "no closed \\boxed{...} final answer");
  doc["answer"] = scorers::normalize_final_answer(*answer);
  return doc;
}

// <n>.json files in the order of EleutherAI/hendrycks_math's loading script (hendrycks_math.py,
// `sorted(Path(...).iterdir())`): by file name as a string, so "1.json" < "10.json" < "100.json" < "2.json".
// Doc i and --limit N then select the problems lm-eval's doc i and --limit N do; numeric order would not.
std::vector<std::filesystem::path> problem_files(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) fail("{}: no such MATH subject folder", dir.string());
  std::vector<std::pair<std::string, std::filesystem::path>> named;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string stem = entry.path().stem().string();
    if (entry.path().extension() != ".json") continue;
    if (stem.empty() || stem.size() > 12 || stem.find_first_not_of("0123456789") != std::string::npos)
      fail("{}: expected <number>.json problem files", entry.path().string());
    named.emplace_back(entry.path().filename().string(), entry.path());
  }
  std::sort(named.begin(), named.end());  // byte order = Python's code-point order on these ASCII names
  std::vector<std::filesystem::path> files;
  for (auto& [name, path] : named) files.push_back(std::move(path));
  return files;
}

DocSplit load_math_subject(const std::filesystem::path& data_dir, const std::string& subject) {
  DocSplit out;
  out.name = "test";
  for (const auto& path : problem_files(data_dir / "math" / "MATH" / "test" / subject)) {
    SourceFile file = read_source(path);
    Doc row;
    try {
      row = Doc::parse(file.bytes);
    } catch (const nlohmann::json::parse_error& e) {
      fail("{}:1: not valid JSON: {}", file.info.path, e.what());
    }
    out.docs.push_back(math_doc(row, RowSource{file.info.path, 1}));
    file.info.rows = 1;
    out.files.push_back(std::move(file.info));
  }
  return out;
}

DocSplit minerva_shots() {
  DocSplit split;
  split.name = "fewshot_config.samples";
  for (const auto& shot : kMinervaShots)
    split.docs.push_back(Doc{{"problem", shot[0]}, {"solution", shot[1]}, {"few_shot", "1"}});
  return split;  // no files: the shots are part of the task definition
}

std::optional<std::string> minerva_answer(std::string_view generation) {
  const auto answer = scorers::minerva_unnormalized_answer(generation);
  if (!answer) return std::nullopt;
  return scorers::normalize_final_answer(*answer);
}

// lm-eval's task name for a subject (minerva_math_<name>.yaml): three are shortened there; the
// name after the subject folder stays an alias so older --task lists keep working.
std::string minerva_task_suffix(const std::string& subject) {
  if (subject == "counting_and_probability") return "counting_and_prob";
  if (subject == "number_theory") return "num_theory";
  if (subject == "precalculus") return "precalc";
  return subject;
}

TaskSpec minerva_math_task(const std::string& subject) {
  // lm-eval metadata.version 2.0 (the list_fewshot_samples form); the card's 4 shots, first_n.
  const std::string name = "minerva_math_" + minerva_task_suffix(subject);
  TaskSpec t = new_task(name, 2, OutputType::GenerateUntil, 4, ShotSampler::FirstN);
  if (name != "minerva_math_" + subject) t.aliases = {"minerva_math_" + subject};
  t.groups = {"minerva_math"};
  t.load_eval = [subject](const std::filesystem::path& dir) { return load_math_subject(dir, subject); };
  t.load_fewshot = [](const std::filesystem::path&) { return minerva_shots(); };
  t.sampler_gets_eval_doc = false;
  t.doc_to_text = [](const Doc& doc) { return "Problem:\n" + doc.at("problem").get<std::string>() + "\n\nSolution:"; };
  // "{{answer if few_shot is undefined else solution}}": shots show the whole worked solution.
  t.doc_to_target = [](const Doc& doc) {
    return doc.at(doc.contains("few_shot") ? "solution" : "answer").get<std::string>();
  };
  t.doc_to_references = [](const Doc& doc) { return std::vector<std::string>{doc.at("answer").get<std::string>()}; };
  t.until = {"Problem:"};
  t.max_gen_toks = 256;  // lm-eval's default; the YAML sets none
  // lm-eval scores in process_results without a filter_list, hence the "none" pipeline name.
  FilterStep extract;
  extract.kind = FilterStep::Kind::Function;
  extract.fallback = scorers::kInvalidMathAnswer;
  extract.function = minerva_answer;
  t.filters = {{"none", {extract}}};
  MetricSpec em = registry_metric(std::string("math:") + scorers::kMinervaSympyVariant, "exact_match");
  em.variant = scorers::kMinervaSympyVariantLabel;
  t.metrics = {em};
  return t;
}

}  // namespace

const std::vector<std::string>& minerva_math_subjects() {
  static const std::vector<std::string> subjects = {
      "algebra",    "counting_and_probability", "geometry", "intermediate_algebra", "number_theory", "prealgebra",
      "precalculus"};
  return subjects;
}

namespace {

std::vector<TaskSpec> minerva_math_tasks() {
  std::vector<TaskSpec> tasks;
  for (const auto& subject : minerva_math_subjects()) tasks.push_back(minerva_math_task(subject));
  return tasks;
}

}  // namespace

const TaskRegistration kMinervaMathRegistration{1200, &minerva_math_tasks};

}  // namespace gemma::evals::tasks
