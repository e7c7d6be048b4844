// Open-QA task adapters (the lm-eval task configs lm_eval/tasks/@4e7e0d47; the ECLeKTic paper; the IndicGenBench
// dataset cards (google/IndicGenBench)): rendered prompts against the lm-eval templates, references, generation
// settings and metrics, loaders on the real data where ../shared/data has it (nq_open, xquad) and on small samples in
// the published layouts otherwise, and bad rows naming file, row and field.
#include <catch2/catch.hpp>

#include "tests/support/task_fixtures.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "evals/fewshot.h"
#include "evals/filters.h"
#include "evals/tasks/open_qa.h"
#include "scorers/chrf.h"
#include "scorers/drop.h"
#include "scorers/eclektic.h"
#include "scorers/exact_match.h"
#include "tests/support/temp_dir.h"

using namespace gemma;
using namespace gemma::evals;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

const fs::path kData = gemma::test::kSharedData;

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

using gemma::test::find_task;
using gemma::test::task_named;
using gemma::test::tasks_named;

double score_exact_match(const TaskSpec& t, const std::string& prediction, const std::vector<std::string>& refs) {
  REQUIRE(t.metrics.size() == 1);
  return scorers::exact_match(prediction, refs, t.metrics.front().exact_match);
}

std::string filtered(const TaskSpec& t, const std::string& response) {
  REQUIRE(t.filters.size() == 1);
  return CompiledFilterPipeline(t.filters.front()).apply(response).text;
}

}  // namespace

// ------------------------------------------------------- NQ open (lm-eval lm_eval/tasks/nq_open/nq_open.yaml@4e7e0d47)

TEST_CASE("nq_open: real dev rows render the lm-eval prompt", "[tasks][nq_open]") {
  const TaskSpec t = task_named("nq_open");
  const DocSplit split = t.load_eval(kData);
  REQUIRE(split.docs.size() == 3610);
  CHECK(split.name == "validation");
  REQUIRE(split.files.size() == 1);
  CHECK(split.files[0].sha256 == "f15567f38099f3615f5b8a685c0aef449c11ad90d3da3735e8d1b98115b40616");
  const Doc& first = split.docs[0];
  CHECK(t.doc_to_text(first) == "Q: when was the last time anyone was on the moon?\nA:");
  CHECK(t.doc_to_target(first) == "14 December 1972 UTC");
  CHECK(t.doc_to_references(first) == std::vector<std::string>{"14 December 1972 UTC", "December 1972"});
  // Description once, then shots separated by ONE newline.
  CHECK(gemma::test::render_prompt(t, {split.docs[1]}, first) ==
        "Answer these questions:\n\nQ: who wrote he ain't heavy he's my brother lyrics?\nA: Bobby Scott\n"
        "Q: when was the last time anyone was on the moon?\nA:");
}

TEST_CASE("nq_open: settings and the 4.1 exact_match vectors", "[tasks][nq_open]") {
  const TaskSpec t = task_named("nq_open");
  CHECK(t.output_type == OutputType::GenerateUntil);
  CHECK(t.default_shots == 5);
  CHECK(t.version == 4);
  CHECK(t.sampler == ShotSampler::Random);
  CHECK(t.sampler_gets_eval_doc);
  CHECK(t.until == std::vector<std::string>{"\n", ".", ","});
  CHECK(t.filters.front().name == "remove_whitespace");
  CHECK(filtered(t, "  Paris \n") == "Paris");
  CHECK(score_exact_match(t, "The Beatles", {"Beatles"}) == 1.0);
  CHECK(score_exact_match(t, "a dog", {"dog"}) == 1.0);
  CHECK(score_exact_match(t, "Theatre", {"theatre"}) == 1.0);
  CHECK(score_exact_match(t, "Ann Arbor", {"ann arbor"}) == 1.0);
  CHECK(score_exact_match(t, "THE Beatles", {"Beatles"}) == 0.0);  // the regex runs before lower-casing
  CHECK(score_exact_match(t, "Lennon", {"Paul McCartney", "John Lennon", "Lennon"}) == 1.0);
}

TEST_CASE("nq_open: missing train file and bad rows name the file", "[tasks][nq_open]") {
  const TaskSpec t = task_named("nq_open");
  gemma::test::TempDir dir;
  CHECK_THAT(gemma::test::error_of([&] { t.load_fewshot(dir.path); }), Contains("NQ-open.train.jsonl"));
  write_file(dir.path / "nq_open" / "NQ-open.dev.jsonl",
             "{\"question\": \"q1\", \"answer\": [\"a\"]}\n{\"question\": \"q2\", \"answer\": []}\n");
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }),
             Contains("NQ-open.dev.jsonl:2: task nq_open: gemma_eval.doc_fields.answer") &&
                 Contains("expected a non-empty list"));
  write_file(dir.path / "nq_open" / "NQ-open.train.jsonl", "{\"question\": 5, \"answer\": [\"a\"]}\n");
  CHECK_THAT(gemma::test::error_of([&] { t.load_fewshot(dir.path); }),
             Contains("NQ-open.train.jsonl:1: task nq_open: gemma_eval.doc_fields.question") &&
                 Contains("expected a string, got 5"));
}

// ----------------------------------------------------- TriviaQA (lm-eval lm_eval/tasks/triviaqa/default.yaml@4e7e0d47)

namespace {
// Two rc.nocontext rows as HF's to_json writes them (fields abridged to the ones that matter plus a few others).
const char* const kTriviaRows =
    R"({"question": "Which Lloyd Webber musical premiered in the US on 10th December 1993", "question_id": "tc_33", )"
    R"("question_source": "http://www.triviacountry.com/", "entity_pages": {"doc_source": [], "filename": [], )"
    R"("title": [], "wiki_context": []}, )"
    R"("search_results": {"description": [], "filename": [], "rank": [], "title": [], "url": [], )"
    R"("search_context": []}, )"
    R"("answer": {"aliases": ["Sunset Blvd", "Sunset Boulevard"], "normalized_aliases": ["sunset blvd", )"
    R"("sunset boulevard"], )"
    R"("matched_wiki_entity_name": "", "normalized_matched_wiki_entity_name": "", )"
    R"("normalized_value": "sunset boulevard", "type": "WikipediaEntity", "value": "Sunset Boulevard"}})"
    "\n"
    R"({"question": "Who was the man behind The Chipmunks", "question_id": "tc_40", )"
    R"("answer": {"aliases": ["David Seville"], "value": "David Seville"}})"
    "\n";
}  // namespace

TEST_CASE("triviaqa: published rc.nocontext rows render the lm-eval prompt", "[tasks][triviaqa]") {
  const TaskSpec t = task_named("triviaqa");
  gemma::test::TempDir dir;
  write_file(dir.path / "triviaqa" / "rc.nocontext" / "validation.jsonl", kTriviaRows);
  write_file(dir.path / "triviaqa" / "rc.nocontext" / "train.jsonl", kTriviaRows);
  const DocSplit eval = t.load_eval(dir.path);
  const DocSplit shots = t.load_fewshot(dir.path);
  REQUIRE(eval.docs.size() == 2);
  CHECK(eval.name == "validation");
  CHECK(shots.name == "train");
  CHECK(t.doc_to_text(eval.docs[1]) == "Question: Who was the man behind The Chipmunks?\nAnswer:");
  CHECK(t.doc_to_references(eval.docs[0]) == std::vector<std::string>{"Sunset Blvd", "Sunset Boulevard"});
  CHECK(gemma::test::render_prompt(t, {shots.docs[0]}, eval.docs[1]) ==
        "Question: Which Lloyd Webber musical premiered in the US on 10th December 1993?\nAnswer: Sunset Blvd\n\n"
        "Question: Who was the man behind The Chipmunks?\nAnswer:");
}

TEST_CASE("triviaqa: settings and the 4.1 exact_match vectors", "[tasks][triviaqa]") {
  const TaskSpec t = task_named("triviaqa");
  CHECK(t.default_shots == 5);
  CHECK(t.version == 3);
  CHECK(t.sampler_gets_eval_doc);
  CHECK(t.target_delimiter == " ");
  CHECK(t.fewshot_delimiter == "\n\n");
  CHECK(t.until == std::vector<std::string>{"\n", ".", ","});
  CHECK(filtered(t, " Sunset Boulevard") == "Sunset Boulevard");
  CHECK(score_exact_match(t, "Paris", {"paris"}) == 1.0);
  CHECK(score_exact_match(t, "The Beatles", {"beatles"}) == 0.0);  // no article removal
  CHECK(score_exact_match(t, "U.S.A.", {"usa"}) == 1.0);
  CHECK(score_exact_match(t, "new-york", {"new york"}) == 0.0);
  CHECK(score_exact_match(t, "sunset boulevard", {"Sunset Blvd", "Sunset Boulevard"}) == 1.0);
}

TEST_CASE("triviaqa: bad rows name file line and field", "[tasks][triviaqa]") {
  const TaskSpec t = task_named("triviaqa");
  gemma::test::TempDir dir;
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }), Contains("validation.jsonl"));
  const fs::path file = dir.path / "triviaqa" / "rc.nocontext" / "validation.jsonl";
  write_file(file, "{\"question\": \"q\", \"answer\": {\"aliases\": []}}\n");
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }),
             Contains("validation.jsonl:1") && Contains("answer.aliases"));
  write_file(file, "{\"question\": \"q\", \"answer\": {\"aliases\": [\"a\"]}}\n{\"question\": \"q\"}\n");
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }),
             Contains("validation.jsonl:2") && Contains("\"answer\""));
}

// -------------------------------------------------- DROP (lm-eval lm_eval/tasks/drop/{default.yaml,utils.py}@4e7e0d47)

namespace {
// Published drop_dataset_dev.json layout: passages keyed by id, each with qa_pairs.
const char* const kDropDev = R"({
 "nfl_1184": {
  "passage": "The Titans scored 4 touchdowns.",
  "qa_pairs": [
   {"question": "How many touchdowns?", "query_id": "q1",
    "answer": {"number": "4", "date": {"day": "", "month": "", "year": ""}, "spans": []},
    "validated_answers": [
     {"number": "4", "date": {"day": "", "month": "", "year": ""}, "spans": []},
     {"number": "", "date": {"day": "", "month": "", "year": ""}, "spans": ["four"]}]},
   {"question": "Which teams played?", "query_id": "q2",
    "answer": {"number": "", "date": {"day": "", "month": "", "year": ""}, "spans": ["Titans", "Jets"]},
    "validated_answers": []}
  ],
  "wiki_url": "https://en.wikipedia.org/wiki/x"
 },
 "history_7": {
  "passage": "The treaty was signed in 1995.",
  "qa_pairs": [
   {"question": "When was it signed?", "query_id": "q3",
    "answer": {"number": "", "date": {"day": "16", "month": "November", "year": "1995"}, "spans": []}}
  ]
 }
})";
}  // namespace

TEST_CASE("drop: published layout loads with deduplicated gold answers", "[tasks][drop]") {
  const std::vector<TaskSpec> all = tasks_named({"drop", "drop_fixed"});
  REQUIRE(all.size() == 2);
  const TaskSpec& t = find_task(all, "drop");
  gemma::test::TempDir dir;
  write_file(dir.path / "drop" / "drop_dataset" / "drop_dataset_dev.json", kDropDev);
  const DocSplit split = t.load_eval(dir.path);
  REQUIRE(split.docs.size() == 3);
  CHECK(split.name == "validation");
  CHECK(split.files.at(0).rows == 3);
  // [answer] + validated_answers, parsed, the repeated "4" dropped.
  CHECK(t.doc_to_references(split.docs[0]) == std::vector<std::string>{R"(["4"])", R"(["four"])"});
  CHECK(t.doc_to_references(split.docs[1]) == std::vector<std::string>{R"(["Titans","Jets"])"});
  CHECK(t.doc_to_references(split.docs[2]) == std::vector<std::string>{R"(["16 November 1995"])"});
  CHECK(t.doc_to_text(split.docs[2]) == "The treaty was signed in 1995. When was it signed?");
  // The same files directly under data_dir/drop work too.
  gemma::test::TempDir flat;
  write_file(flat.path / "drop" / "drop_dataset_train.json", kDropDev);
  CHECK(t.load_fewshot(flat.path).docs.size() == 3);
}

TEST_CASE("drop: lm-eval parity prompt and the fixed variant", "[tasks][drop]") {
  const std::vector<TaskSpec> all = tasks_named({"drop", "drop_fixed"});
  gemma::test::TempDir dir;
  write_file(dir.path / "drop" / "drop_dataset_dev.json", kDropDev);
  const TaskSpec& parity = find_task(all, "drop");
  const TaskSpec& fixed = find_task(all, "drop_fixed");
  const DocSplit split = parity.load_eval(dir.path);
  // lm-eval joins the keys of HF's answer dict for every shot (lm-eval
  // lm_eval/tasks/drop/{default.yaml,utils.py}@4e7e0d47 [run]); td "".
  CHECK(gemma::test::render_prompt(parity, {split.docs[1]}, split.docs[2]) ==
        "The Titans scored 4 touchdowns. Which teams played?number,date,spans,worker_id,hit_id\n\n"
        "The treaty was signed in 1995. When was it signed?");
  CHECK(parity.until == std::vector<std::string>{"."});
  CHECK(gemma::test::render_prompt(fixed, {split.docs[1]}, split.docs[2]) ==
        "The Titans scored 4 touchdowns. Which teams played? Titans, Jets\n\n"
        "The treaty was signed in 1995. When was it signed?");
  CHECK(fixed.until == std::vector<std::string>{"\n"});
  for (const TaskSpec* t : {&parity, &fixed}) {
    CHECK(t->default_shots == 1);
    CHECK(t->sampler_gets_eval_doc);
    REQUIRE(t->metrics.size() == 2);
    CHECK(t->metrics[0].name == "em");
    CHECK(t->metrics[1].name == "f1");
  }
  CHECK(parity.metrics[0].variant == "lm-eval");
  CHECK(fixed.metrics[1].variant == "fixed");
  // Scores come from (prediction, references) alone.
  const std::vector<std::string> refs = parity.doc_to_references(split.docs[1]);
  CHECK(parity.metrics[0].score("Titans", refs) == 0.0);
  CHECK(parity.metrics[1].score("Titans", refs) == 0.5);
  CHECK(fixed.metrics[1].score("four", parity.doc_to_references(split.docs[0])) == 1.0);
}

TEST_CASE("drop: bad rows name file passage query and field", "[tasks][drop]") {
  const TaskSpec t = tasks_named({"drop", "drop_fixed"}).front();
  gemma::test::TempDir dir;
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }), Contains("drop_dataset_dev.json"));
  const fs::path file = dir.path / "drop" / "drop_dataset_dev.json";
  write_file(file,
             R"({"p1": {"passage": "x", "qa_pairs": [{"question": "q", "query_id": "q9", "answer": {"number": "", )"
             R"("spans": []}}]}})");
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }),
             Contains("drop_dataset_dev.json") && Contains("p1.qa_pairs[0]") && Contains("q9") && Contains("\"date\""));
  write_file(file, R"({"p1": {"qa_pairs": []}})");
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }), Contains("passage p1") && Contains("\"passage\""));
  write_file(file, R"([1, 2])");
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }), Contains("JSON object of passages"));
}

// ------------------------------------------- XQuAD (lm-eval lm_eval/tasks/xquad/{xquad_common_yaml,utils.py}@4e7e0d47)

TEST_CASE("xquad: twelve languages in group xquad", "[tasks][xquad]") {
  const std::vector<TaskSpec> all = tasks_named({"xquad"});
  REQUIRE(all.size() == 12);
  for (const char* code : {"ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh"}) {
    const TaskSpec& t = find_task(all, std::string("xquad_") + code);
    CHECK(t.groups == std::vector<std::string>{"xquad"});
    CHECK(t.until == std::vector<std::string>{"\n"});
    CHECK(t.default_shots == 0);
    REQUIRE(t.metrics.size() == 2);
    CHECK(t.metrics[0].name == "exact_match");
    CHECK(t.metrics[1].name == "f1");
  }
}

TEST_CASE("xquad: real en and de rows render the lm-eval templates", "[tasks][xquad]") {
  const std::vector<TaskSpec> all = tasks_named({"xquad"});
  const TaskSpec& en = find_task(all, "xquad_en");
  const DocSplit split = en.load_eval(kData);
  REQUIRE(split.docs.size() == 1190);
  CHECK(split.name == "validation");
  const Doc& first = split.docs[0];
  CHECK(first.at("id") == "56beb4343aeaaa14008c925b");
  const std::string text = en.doc_to_text(first);
  CHECK_THAT(text, Catch::StartsWith("Context: The Panthers defense gave up just 308 points, ranking sixth"));
  CHECK_THAT(text, Catch::EndsWith("\n\nQuestion: How many points did the Panthers defense surrender?\n\nAnswer:"));
  CHECK(en.doc_to_target(first) == "308");
  CHECK(en.doc_to_references(first) == std::vector<std::string>{"308"});
  // The shot pool is the eval split itself.
  CHECK(en.load_fewshot(kData).docs.size() == 1190);
  CHECK(en.sampler_gets_eval_doc);

  const TaskSpec& de = find_task(all, "xquad_de");
  const std::string de_text = de.doc_to_text(de.load_eval(kData).docs[0]);
  CHECK_THAT(de_text, Catch::StartsWith("Kontext: "));
  CHECK_THAT(de_text, Catch::EndsWith("\n\nFrage: Wie viele Punkte gab die Verteidigung der Panthers ab?\n\nAntwort:"));
}

// Each xquad_<lang>.yaml's doc_to_text, "<C>: {{context}}\n\n<Q>: {{question}}\n\n<A>:", rendered on one
// synthetic doc (context and question kept verbatim, no stripping). Sources: ar from the upstream
// xquad_ar.yaml, es from spanish_bench/xquad_es.yaml, en/de/zh from lm-eval
// lm_eval/tasks/xquad/{xquad_common_yaml,utils.py}@4e7e0d47; el, hi, ro, ru, th, tr, vi pin the current labels, whose
// YAMLs could not be retrieved (see evals/tasks/xquad.cpp).
TEST_CASE("xquad: every language renders its yaml template on a synthetic doc", "[tasks][xquad]") {
  const std::vector<TaskSpec> all = tasks_named({"xquad"});
  Doc doc;
  doc["context"] = " Ctx  one.";
  doc["question"] = "Q two? ";
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"ar", "سياق:  Ctx  one.\n\nسؤال: Q two? \n\nإجابة:"},
      {"de", "Kontext:  Ctx  one.\n\nFrage: Q two? \n\nAntwort:"},
      {"el", "Συμφραζόμενα:  Ctx  one.\n\nΕρώτηση: Q two? \n\nΑπάντηση:"},
      {"en", "Context:  Ctx  one.\n\nQuestion: Q two? \n\nAnswer:"},
      {"es", "Contexto:  Ctx  one.\n\nPregunta: Q two? \n\nRespuesta:"},
      {"hi", "प्रसंग:  Ctx  one.\n\nसवाल: Q two? \n\nउत्तर:"},
      {"ro", "Context:  Ctx  one.\n\nÎntrebare: Q two? \n\nRăspuns:"},
      {"ru", "Контекст:  Ctx  one.\n\nВопрос: Q two? \n\nОтвет:"},
      {"th", "บริบท:  Ctx  one.\n\nคำถาม: Q two? \n\nคำตอบ:"},
      {"tr", "Bağlam:  Ctx  one.\n\nSoru: Q two? \n\nCevap:"},
      {"vi", "Bối cảnh:  Ctx  one.\n\nCâu hỏi: Q two? \n\nTrả lời:"},
      {"zh", "语境:  Ctx  one.\n\n问题: Q two? \n\n回答:"},
  };
  REQUIRE(expected.size() == all.size());
  for (const auto& [code, text] : expected) {
    INFO("xquad_" << code);
    const TaskSpec& t = find_task(all, "xquad_" + code);
    CHECK(t.doc_to_text(doc) == text);
    // xquad_common_yaml: target_delimiter ' ', answers.text[0] as the target.
    CHECK(t.target_delimiter == " ");
  }
}

TEST_CASE("xquad: metrics score the unstripped generation against the first answer", "[tasks][xquad]") {
  const TaskSpec t = tasks_named({"xquad"}).front();
  CHECK(t.filters.empty());  // lm-eval: no filter_list, take_first
  CHECK(t.metrics[0].score(" 308 points", {"308"}) == 0.0);
  CHECK(t.metrics[1].score(" 308 points", {"308"}) == Approx(2.0 / 3));
  CHECK(t.metrics[0].score(" The 308.", {"308", "other"}) == 1.0);
  CHECK(t.metrics[0].score("other", {"308", "other"}) == 0.0);
}

TEST_CASE("xquad: bad rows name file position and field", "[tasks][xquad]") {
  const TaskSpec t = tasks_named({"xquad"}).front();  // xquad_ar
  gemma::test::TempDir dir;
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }), Contains("xquad.ar.json"));
  write_file(dir.path / "xquad" / "xquad.ar.json",
             R"({"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "1", "question": "q", "answers": []}]}]}]})");
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }),
             Contains("xquad.ar.json") && Contains("data[0].paragraphs[0].qas[0]") && Contains("\"answers\""));
  write_file(dir.path / "xquad" / "xquad.ar.json", R"({"version": "1.1"})");
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }), Contains("\"data\""));
}

// ---------------------------------------------------------------- ECLeKTic (the ECLeKTic paper, approximate)

namespace {
const char* const kEclekticRows =
    R"({"q_id": 7, "original_lang": "de", "lang": "de", "title": "T", "url": "u", )"
    R"("question": "Wann wurde X gegründet?", "answer": "1901"})"
    "\n"
    R"({"q_id": 7, "original_lang": "de", "lang": "en", "question": "When was X founded?", "answer": "1901"})"
    "\n"
    R"({"q_id": 7, "original_lang": "de", "lang": "fr", "question": "Quand X a-t-il été fondé ?", "answer": "1901"})"
    "\n"
    R"({"q_id": "8", "original_lang": "en", "lang": "en", "question": "Who built Y?", "answer": "The Smith Brothers"})"
    "\n"
    R"({"q_id": "8", "original_lang": "en", "lang": "de", "question": "Wer baute Y?", "answer": "Smith Brothers"})"
    "\n";
}  // namespace

TEST_CASE("eclektic: rows load and render with self-contained references", "[tasks][eclektic]") {
  const std::vector<TaskSpec> all = tasks_named({"eclektic"});
  REQUIRE(all.size() == 1);
  const TaskSpec& t = all.front();
  gemma::test::TempDir dir;
  write_file(dir.path / "eclektic" / "eclektic_main.jsonl", kEclekticRows);
  const DocSplit split = t.load_eval(dir.path);
  REQUIRE(split.docs.size() == 5);
  CHECK(t.default_shots == 0);
  CHECK_FALSE(t.load_fewshot);
  CHECK(t.doc_to_text(split.docs[1]) == "Question: When was X founded?\nAnswer:");
  const std::vector<std::string> refs = t.doc_to_references(split.docs[0]);
  REQUIRE(refs.size() == 1);
  const scorers::EclekticReference ref = scorers::eclektic_reference(refs[0]);
  CHECK(ref.answer == "1901");
  CHECK(ref.q_id == "7");  // an integer q_id is kept as text
  CHECK(ref.lang == "de");
  CHECK(ref.original_lang == "de");
  CHECK_THROWS_AS(scorers::eclektic_reference(R"({"answer": "x"})"), gemma::Error);
}

TEST_CASE("eclektic: containment correctness and the paired corpus metrics", "[tasks][eclektic]") {
  const TaskSpec t = tasks_named({"eclektic"}).front();
  gemma::test::TempDir dir;
  write_file(dir.path / "eclektic" / "eclektic_main.jsonl", kEclekticRows);
  const DocSplit split = t.load_eval(dir.path);
  std::vector<std::vector<std::string>> refs;
  for (const Doc& doc : split.docs) refs.push_back(t.doc_to_references(doc));
  REQUIRE(t.metrics.size() == 3);
  CHECK(t.metrics[0].score("Es wurde 1901 gegründet.", refs[0]) == 1.0);
  CHECK(t.metrics[0].score("1910", refs[0]) == 0.0);
  CHECK(t.metrics[0].score("the smith brothers built it", refs[3]) == 1.0);
  // q7: source right, en right, fr wrong; q8: source wrong, de right.
  const std::vector<std::string> predictions{"1901", "In 1901.", "en 1899", "Nobody", "Smith Brothers"};
  // Target pairs: (7,en) both, (7,fr) no, (8,de) source wrong -> overall 1/3; transfer 1/2 (source-correct pairs).
  CHECK(t.metrics[1].name == "overall_success");
  CHECK(t.metrics[1].corpus_score(predictions, refs) == Approx(1.0 / 3));
  CHECK(t.metrics[2].name == "transfer");
  CHECK(t.metrics[2].corpus_score(predictions, refs) == Approx(0.5));
  // Without the source docs no pair can be scored.
  CHECK(t.metrics[1].corpus_score({"1901"}, {refs[1]}) == 0.0);
}

TEST_CASE("eclektic: bad rows name file line and field", "[tasks][eclektic]") {
  const TaskSpec t = tasks_named({"eclektic"}).front();
  gemma::test::TempDir dir;
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }), Contains("eclektic_main.jsonl"));
  write_file(dir.path / "eclektic" / "eclektic_main.jsonl",
             "{\"q_id\": 1, \"original_lang\": \"en\", \"lang\": \"en\", \"question\": \"q\", \"answer\": \"a\"}\n"
             "{\"q_id\": 1, \"original_lang\": \"en\", \"question\": \"q\", \"answer\": \"a\"}\n");
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }),
             Contains("eclektic_main.jsonl:2") && Contains("\"lang\""));
}

// ---------------------------------- IndicGenBench (the IndicGenBench dataset cards (google/IndicGenBench), QA subsets)

TEST_CASE("indicgenbench: QA subsets read every language file in name order", "[tasks][indicgenbench]") {
  const std::vector<TaskSpec> all = tasks_named({"indicgenbench"});
  REQUIRE(all.size() == 4);
  const TaskSpec& xquad = find_task(all, "indicgenbench_xquad_in");
  const TaskSpec& xorqa = find_task(all, "indicgenbench_xorqa_in");
  gemma::test::TempDir dir;
  const fs::path xquad_dir = dir.path / "indicgenbench" / "xquad_in";
  write_file(xquad_dir / "xquad_hi_test.json",
             R"({"examples": [{"lang": "hi", "title": "t", "context": "संदर्भ", "question": "प्रश्न?", )"
             R"("answers": [{"text": "उत्तर"}]}]})");
  write_file(xquad_dir / "xquad_bn_test.json",  // a bare array is accepted too
             R"([{"lang": "bn", "context": "C1", "question": "Q1", "answers": [{"text": "A1"}, {"text": "A one"}]},
                 {"lang": "bn", "context": "C2", "question": "Q2", "answers": [{"text": "A2"}]}])");
  write_file(xquad_dir / "xquad_bn_dev.json", R"({"examples": []})");
  const DocSplit split = xquad.load_eval(dir.path);
  REQUIRE(split.docs.size() == 3);
  REQUIRE(split.files.size() == 2);
  CHECK_THAT(split.files[0].path, Catch::EndsWith("xquad_bn_test.json"));
  CHECK(split.files[0].rows == 2);
  CHECK(split.docs[2].at("lang") == "hi");
  CHECK(xquad.doc_to_text(split.docs[0]) == "Context: C1\n\nQuestion: Q1\n\nAnswer:");
  CHECK(xquad.doc_to_target(split.docs[0]) == "A1");
  const std::vector<std::string> refs = xquad.doc_to_references(split.docs[0]);
  CHECK(refs == std::vector<std::string>{"A1", "A one"});
  CHECK(xquad.metrics[0].score("a one", refs) == 1.0);  // max over references
  CHECK(xquad.metrics[1].score("A", refs) == 0.0);
  CHECK(xquad.load_fewshot(dir.path).docs.empty());

  write_file(
      dir.path / "indicgenbench" / "xorqa_in" / "xorqa_ta_test.json",
      R"({"examples": [{"lang": "ta", "context": "English context.", "question": "கேள்வி?", "oracle_question": "Q?",
                 "answers": [{"text": "Chennai"}], "translated_answers": [{"text": "சென்னை"}]}]})");
  const DocSplit xorqa_split = xorqa.load_eval(dir.path);
  REQUIRE(xorqa_split.docs.size() == 1);
  CHECK(xorqa.doc_to_references(xorqa_split.docs[0]) == std::vector<std::string>{"சென்னை"});
}

TEST_CASE("indicgenbench: missing files and bad rows are named", "[tasks][indicgenbench]") {
  const TaskSpec t = tasks_named({"indicgenbench"}).front();
  gemma::test::TempDir dir;
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }), Contains("xquad_in") && Contains("_test.json"));
  write_file(dir.path / "indicgenbench" / "xquad_in" / "xquad_as_test.json",
             R"({"examples": [{"lang": "as", "context": "c", "question": "q", "answers": []}]})");
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }),
             Contains("xquad_as_test.json") && Contains("examples[0]") && Contains("\"answers\""));
  write_file(dir.path / "indicgenbench" / "xquad_in" / "xquad_as_test.json", R"({"data": []})");
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }), Contains("\"examples\""));
}

TEST_CASE("indicgenbench: flores_in renders both directions and scores chrF per file", "[tasks][indicgenbench]") {
  const TaskSpec t = find_task(tasks_named({"indicgenbench"}), "indicgenbench_flores_in");
  gemma::test::TempDir dir;
  const fs::path folder = dir.path / "indicgenbench" / "flores_in";
  write_file(
      folder / "flores_en_hi_test.json",
      R"({"examples": [{"source": "Hello.", "target": "नमस्ते।", "translation_direction": "enxx", "lang": "hi"}]})");
  write_file(
      folder / "flores_hi_en_test.json",
      R"({"examples": [{"source": "नमस्ते।", "target": "Hello.", "translation_direction": "xxen", "lang": "hi"}]})");
  write_file(folder / "flores_en_hi_dev.json", R"({"examples": []})");
  const DocSplit split = t.load_eval(dir.path);
  REQUIRE(split.docs.size() == 2);
  CHECK(split.files.size() == 2);
  CHECK(t.doc_to_text(split.docs[0]) == "English sentence: Hello.\nHindi sentence:");
  CHECK(t.doc_to_text(split.docs[1]) == "Hindi sentence: नमस्ते।\nEnglish sentence:");
  CHECK(t.doc_to_target(split.docs[0]) == "नमस्ते।");
  std::vector<std::vector<std::string>> refs;
  for (const Doc& doc : split.docs) refs.push_back(t.doc_to_references(doc));
  CHECK(refs[0] == std::vector<std::string>{R"({"target":"नमस्ते।","group":"flores_en_hi"})"});
  REQUIRE(t.metrics.size() == 1);
  CHECK(t.metrics[0].name == "chrf");
  // The mean over files of each file's corpus chrF.
  const std::vector<std::string> predictions{"नमस्ते", "Hello there."};
  const double expected =
      (scorers::corpus_chrf({"नमस्ते"}, {{"नमस्ते।"}}) + scorers::corpus_chrf({"Hello there."}, {{"Hello."}})) / 2;
  CHECK(t.metrics[0].corpus_score(predictions, refs) == Approx(expected));
  CHECK(t.metrics[0].corpus_score({"Hello."}, {refs[1]}) == Approx(100.0));
  CHECK_THROWS_AS(t.metrics[0].corpus_score({"x"}, {{"plain reference"}}), gemma::Error);
  write_file(folder / "flores_en_hi_test.json",
             R"({"examples": [{"source": "a", "target": "b", "translation_direction": "en-hi", "lang": "hi"}]})");
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }),
             Contains("flores_en_hi_test.json") && Contains("examples[0]") && Contains("translation_direction"));
}

TEST_CASE("indicgenbench: crosssum_in renders the summary prompt", "[tasks][indicgenbench]") {
  const TaskSpec t = find_task(tasks_named({"indicgenbench"}), "indicgenbench_crosssum_in");
  gemma::test::TempDir dir;
  write_file(dir.path / "indicgenbench" / "crosssum_in" / "crosssum_english-bn_test.json",
             R"({"examples": [{"text": "Rain fell.", "summary": "বৃষ্টি হয়েছে।", "lang": "bn"}]})");
  const DocSplit split = t.load_eval(dir.path);
  REQUIRE(split.docs.size() == 1);
  CHECK(t.doc_to_text(split.docs[0]) ==
        "Summarize the following English article in Bengali.\n\nArticle: Rain fell.\n\nSummary:");
  CHECK(t.doc_to_references(split.docs[0]) ==
        std::vector<std::string>{R"({"target":"বৃষ্টি হয়েছে।","group":"crosssum_english-bn"})"});
  CHECK(t.metrics.at(0).name == "chrf");
  write_file(dir.path / "indicgenbench" / "crosssum_in" / "crosssum_english-bn_test.json",
             R"({"examples": [{"text": "Rain fell.", "lang": "bn"}]})");
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }),
             Contains("crosssum_english-bn_test.json") && Contains("\"summary\""));
}

// ---------------------------------------------------------------- all open-QA tasks

TEST_CASE("open_qa_tasks: unique names and complete generation specs", "[tasks][open_qa]") {
  const std::vector<TaskSpec> all =
      tasks_named({"triviaqa", "nq_open", "drop", "drop_fixed", "xquad", "eclektic", "indicgenbench"});
  CHECK(all.size() == 1 + 1 + 2 + 12 + 1 + 4);
  std::set<std::string> names;
  for (const TaskSpec& t : all) {
    INFO(t.name);
    CHECK(names.insert(t.name).second);
    CHECK(t.output_type == OutputType::GenerateUntil);
    CHECK(static_cast<bool>(t.load_eval));
    CHECK(static_cast<bool>(t.doc_to_text));
    CHECK(static_cast<bool>(t.doc_to_references));
    CHECK_FALSE(t.until.empty());
    CHECK_FALSE(t.metrics.empty());
    for (const MetricSpec& m : t.metrics) CHECK((m.name == "exact_match" || m.score || m.corpus_score));
  }
}

// ------------------------------------------------------- shot draws (lm-eval lm_eval/api/samplers.py@4e7e0d47 vectors)

TEST_CASE("triviaqa and nq_open: doc 0 shots follow lm-eval's draws", "[tasks][triviaqa][nq_open]") {
  // Both draw n+1 = 6 from the train pool (the eval doc is handed to the sampler) and keep 5.
  // Doc 1's shots tell n+1 from n draws (doc 0's first five are the same either way); doc 1's
  // indices were computed with CPython's random.Random(1234).sample(range(N), 6), twice.
  auto two_docs_shots = [](const TaskSpec& t, size_t pool_size) {
    FewshotSampler sampler(t.name, t.sampler, pool_size, 1234);
    const IsEvalDoc not_in_pool = [](size_t) { return false; };  // eval docs are not train docs
    const IsEvalDoc matcher = t.sampler_gets_eval_doc ? not_in_pool : IsEvalDoc();
    std::vector<std::vector<int64_t>> shots;
    shots.push_back(sampler.next(t.default_shots, matcher));
    shots.push_back(sampler.next(t.default_shots, matcher));
    return shots;
  };
  const auto trivia = two_docs_shots(task_named("triviaqa"), 138384);
  CHECK(trivia[0] == std::vector<int64_t>{115535, 30631, 1963, 23761, 9155});
  CHECK(trivia[1] == std::vector<int64_t>{25800, 92965, 62078, 4568, 8077});
  const auto nq = two_docs_shots(task_named("nq_open"), 87925);
  CHECK(nq[0] == std::vector<int64_t>{57767, 15315, 981, 11880, 76313});
  CHECK(nq[1] == std::vector<int64_t>{11001, 12900, 46482, 31039, 2284});
}
