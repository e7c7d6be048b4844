// WMT24++, FloRes and Global-MMLU-Lite adapters (evals/tasks/translation.h; lm-eval
// lm_eval/tasks/global_mmlu/default/*@4e7e0d47; the WMT24++ dataset card (google/wmt24pp); lm-eval
// lm_eval/tasks/galician_bench/flores_gl/_flores_common_yaml@4e7e0d47): task sets and names, prompts on real rows,
// loaders and their errors, and the corpus chrF metric on real non-Latin data. Expected chrF values on real data come
// from a line-by-line Python transcription of sacrebleu 2.x chrf.py/helpers.py (Python str code points), since
// sacrebleu is not installed here.
#include <catch2/catch.hpp>

#include "tests/support/task_fixtures.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "evals/bootstrap.h"
#include "evals/filters.h"
#include "evals/tasks/translation.h"
#include "tests/support/temp_dir.h"

using namespace gemma::evals;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

const fs::path kData = gemma::test::kSharedData;

using gemma::test::find_task;
using gemma::test::tasks_named;

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// A split's docs scored by a task's (single) corpus metric, each doc's prediction taken from `field`.
double corpus_metric_on(const TaskSpec& t, const std::vector<Doc>& docs, const std::string& prediction_field) {
  std::vector<std::string> predictions;
  std::vector<std::vector<std::string>> references;
  for (const Doc& doc : docs) {
    predictions.push_back(doc.at(prediction_field).get<std::string>());
    references.push_back(t.doc_to_references(doc));
  }
  return t.metrics.at(0).corpus_score(predictions, references);
}

}  // namespace

// ---------------------------------------------------------------- WMT24++ (the WMT24++ dataset card (google/wmt24pp))

TEST_CASE("wmt24pp: 55 en-xx tasks with chrF and the strip filter", "[tasks][wmt24pp]") {
  const auto tasks = tasks_named({"wmt24pp"});
  REQUIRE(tasks.size() == 55);
  std::set<std::string> names;
  for (const TaskSpec& t : tasks) {
    names.insert(t.name);
    CHECK(t.groups == std::vector<std::string>{"wmt24pp"});
    CHECK(t.output_type == OutputType::GenerateUntil);
    CHECK(t.default_shots == 0);
    CHECK(!t.load_fewshot);  // `train` is the only split
    CHECK(t.until == std::vector<std::string>{"\n"});
    REQUIRE(t.metrics.size() == 1);
    CHECK(t.metrics[0].name == "chrf");
    CHECK(t.metrics[0].bootstrap_iters == 100);
    CHECK(t.metrics[0].variant == "sacrebleu:nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.x");
  }
  CHECK(names.size() == 55);
  CHECK(names.count("wmt24pp_en-de_DE") == 1);
  CHECK(names.count("wmt24pp_en-fil_PH") == 1);
  CHECK(names.count("wmt24pp_en-zu_ZA") == 1);
  const TaskSpec& de = find_task(tasks, "wmt24pp_en-de_DE");
  REQUIRE(de.filters.size() == 1);
  CHECK(de.filters[0].name == "strip");
  const CompiledFilterPipeline strip(de.filters[0]);
  CHECK(strip.apply("  Hallo Welt \u3000").text == "Hallo Welt");
  CHECK_FALSE(strip.apply("   ").fell_back);
}

TEST_CASE("wmt24pp: en-ja_JP prompt and references on the real data", "[tasks][wmt24pp]") {
  const auto tasks = tasks_named({"wmt24pp"});
  const TaskSpec& ja = find_task(tasks, "wmt24pp_en-ja_JP");
  const DocSplit split = ja.load_eval(kData);
  CHECK(split.name == "train");
  REQUIRE(split.docs.size() == 960);  // 998 rows minus 38 is_bad_source (the canary included)
  REQUIRE(split.files.size() == 1);
  CHECK(split.files[0].rows == 960);
  CHECK(split.files[0].sha256 == "58bbee69aed537d21e25f04c5eaf49c2c7aef1b1dddb918f6eac424ab93c7ec8");
  for (const Doc& doc : split.docs) CHECK_FALSE(doc.at("is_bad_source").get<bool>());
  const Doc& first = split.docs.front();
  CHECK(ja.doc_to_text(first) ==
        "English sentence: Siso's depictions of land, water center new gallery exhibition\n"
        "Japanese sentence:");
  CHECK(ja.doc_to_references(first) ==
        std::vector<std::string>{"大地と水をテーマにしたシソの作品展が新ギャラリーで開催"});
  CHECK(find_task(tasks, "wmt24pp_en-zh_TW").doc_to_text(first).substr(0, 17) == "English sentence:");
  CHECK(find_task(tasks, "wmt24pp_en-zh_TW").doc_to_text(first).find("\nMandarin sentence:") != std::string::npos);
}

TEST_CASE("wmt24pp: corpus chrF and bootstrap stderr on real non-Latin pairs", "[tasks][wmt24pp][chrf]") {
  const auto tasks = tasks_named({"wmt24pp"});
  // original_target (the first human translation) scored against target (its post-edit).
  struct Expected {
    const char* task;
    double chrf;
  };
  for (const Expected& e :
       {Expected{"wmt24pp_en-ja_JP", 87.90178508974624}, Expected{"wmt24pp_en-hi_IN", 45.40613029929402},
        Expected{"wmt24pp_en-zh_CN", 49.18813099315951}, Expected{"wmt24pp_en-ko_KR", 88.93969678996724}}) {
    INFO(e.task);
    const TaskSpec& t = find_task(tasks, e.task);
    const DocSplit split = t.load_eval(kData);
    CHECK(corpus_metric_on(t, split.docs, "original_target") == Approx(e.chrf).margin(1e-9));
    CHECK(corpus_metric_on(t, split.docs, "target") == Approx(100.0).margin(1e-9));
  }
  // lm-eval's bootstrap (Random(0).choices, 100 replicates) over the first 50 en-ja_JP docs: 2.6097327718368883.
  const TaskSpec& ja = find_task(tasks, "wmt24pp_en-ja_JP");
  const DocSplit split = ja.load_eval(kData);
  std::vector<std::string> predictions;
  std::vector<std::vector<std::string>> references;
  for (size_t i = 0; i < 50; ++i) {
    predictions.push_back(split.docs[i].at("original_target").get<std::string>());
    references.push_back(ja.doc_to_references(split.docs[i]));
  }
  const auto stderr_value = bootstrap_stderr(50, ja.metrics[0].bootstrap_iters, [&](const std::vector<size_t>& picked) {
    std::vector<std::string> p;
    std::vector<std::vector<std::string>> r;
    for (size_t i : picked) {
      p.push_back(predictions[i]);
      r.push_back(references[i]);
    }
    return ja.metrics[0].corpus_score(p, r);
  });
  REQUIRE(stderr_value.has_value());
  CHECK(*stderr_value == Approx(2.6097327718368883).margin(1e-9));
  // chrF++ on the same pair through the shared metric builder.
  gemma::scorers::ChrfOptions plus;
  plus.word_order = 2;
  TaskSpec ja_plus = ja;
  ja_plus.metrics = {tasks::corpus_chrf_metric(plus, "chrf++")};
  CHECK(corpus_metric_on(ja_plus, split.docs, "original_target") == Approx(79.24488077128532).margin(1e-9));
}

TEST_CASE("wmt24pp: bad rows name file line and field", "[tasks][wmt24pp]") {
  gemma::test::TempDir dir;
  const TaskSpec t = find_task(tasks_named({"wmt24pp"}), "wmt24pp_en-de_DE");
  const std::string good = R"({"lp": "en-de_DE", "is_bad_source": false, "source": "Hi", "target": "Hallo"})";
  write_file(dir.path / "wmt24pp" / "en-de_DE.jsonl",
             good + "\n" + R"({"is_bad_source": "no", "source": "a", "target": "b"})" + "\n");
  std::string message = gemma::test::error_of([&] { t.load_eval(dir.path); });
  CHECK_THAT(message, Contains("en-de_DE.jsonl:2") && Contains("is_bad_source") && Contains("boolean"));
  write_file(dir.path / "wmt24pp" / "en-de_DE.jsonl",
             good + "\n" + R"({"is_bad_source": false, "source": "a"})" + "\n");
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }),
             Contains("en-de_DE.jsonl:2") && Contains("\"target\""));
  write_file(dir.path / "wmt24pp" / "en-de_DE.jsonl",
             good + "\n" + R"({"is_bad_source": true, "source": "x", "target": "y"})" + "\n");
  CHECK(t.load_eval(dir.path).docs.size() == 1);
  CHECK_THAT(
      gemma::test::error_of([&] { find_task(tasks_named({"wmt24pp"}), "wmt24pp_en-fr_FR").load_eval(dir.path); }),
      Contains("en-fr_FR.jsonl"));
  CHECK_THROWS_AS(t.metrics[0].corpus_score({"a"}, {}), gemma::Error);
}

// -------------------------------- FloRes (lm-eval lm_eval/tasks/galician_bench/flores_gl/_flores_common_yaml@4e7e0d47)

TEST_CASE("flores: 38 directions through English", "[tasks][flores]") {
  const auto tasks = tasks_named({"flores"});
  REQUIRE(tasks.size() == 38);
  std::set<std::string> names;
  for (const TaskSpec& t : tasks) {
    names.insert(t.name);
    CHECK(t.groups == std::vector<std::string>{"flores"});
    CHECK(t.default_shots == 0);
    CHECK(t.target_delimiter == " ");
    CHECK(t.until == std::vector<std::string>{"\n"});
    CHECK(t.metrics.at(0).name == "chrf");
    CHECK(t.metrics.at(0).bootstrap_iters == 100);
  }
  CHECK(names.size() == 38);
  for (const char* name : {"flores_en-de", "flores_de-en", "flores_en-zh", "flores_zh_Hant-en", "flores_en-sw"})
    CHECK(names.count(name) == 1);
}

TEST_CASE("flores: en-ja and ja-en on the real devtest", "[tasks][flores]") {
  const auto tasks = tasks_named({"flores"});
  const TaskSpec& en_ja = find_task(tasks, "flores_en-ja");
  const DocSplit split = en_ja.load_eval(kData);
  CHECK(split.name == "devtest");
  REQUIRE(split.docs.size() == 1012);
  REQUIRE(split.files.size() == 2);
  CHECK(split.files[1].sha256 == "36b8e392ae9404a20e8448c731d16d957ac1b94588d97fb691128ae706b63606");
  CHECK(split.files[0].rows == 1012);
  const Doc& first = split.docs.front();
  CHECK(first.at("id") == 1);
  const std::string english =
      "\"We now have 4-month-old mice that are non-diabetic that used to be diabetic,\" he added.";
  const std::string japanese =
      "「我々が飼っている生後4か月のマウスはかつて糖尿病でしたが現在は糖尿病ではない、」と彼は付け加えました。";
  CHECK(en_ja.doc_to_text(first) == "English sentence: " + english + "\nJapanese sentence:");
  CHECK(en_ja.doc_to_references(first) == std::vector<std::string>{japanese});
  const TaskSpec& ja_en = find_task(tasks, "flores_ja-en");
  const Doc ja_first = ja_en.load_eval(kData).docs.front();
  CHECK(ja_en.doc_to_text(ja_first) == "Japanese sentence: " + japanese + "\nEnglish sentence:");
  // A shot renders with a " " target delimiter (lm-eval's '' would glue "sentence:" to it).
  CHECK(en_ja.doc_to_text(first) + en_ja.target_delimiter + en_ja.doc_to_target(first) ==
        "English sentence: " + english + "\nJapanese sentence: " + japanese);
}

TEST_CASE("flores: corpus chrF between scripts on the real devtest", "[tasks][flores][chrf]") {
  // Traditional-script sentences scored against the Simplified references (code-point n-grams).
  const auto flores = tasks_named({"flores"});
  const TaskSpec& t = find_task(flores, "flores_en-zh");
  const DocSplit simplified = t.load_eval(kData);
  const DocSplit traditional = find_task(flores, "flores_en-zh_Hant").load_eval(kData);
  std::vector<std::string> predictions;
  std::vector<std::vector<std::string>> references;
  for (size_t i = 0; i < simplified.docs.size(); ++i) {
    predictions.push_back(traditional.docs[i].at("sentence_zho_Hant").get<std::string>());
    references.push_back(t.doc_to_references(simplified.docs[i]));
  }
  CHECK(t.metrics[0].corpus_score(predictions, references) == Approx(16.21132721061194).margin(1e-9));
}

TEST_CASE("flores: shots from dev and damaged files", "[tasks][flores]") {
  gemma::test::TempDir dir;
  const TaskSpec t = find_task(tasks_named({"flores"}), "flores_de-en");
  write_file(dir.path / "flores200" / "dev" / "deu_Latn.dev", "Hallo.\nWelt.\n");
  write_file(dir.path / "flores200" / "dev" / "eng_Latn.dev", "Hello.\nWorld.\n");
  const DocSplit dev = t.load_fewshot(dir.path);
  CHECK(dev.name == "dev");
  REQUIRE(dev.docs.size() == 2);
  CHECK(t.doc_to_text(dev.docs[1]) + t.target_delimiter + t.doc_to_target(dev.docs[1]) ==
        "German sentence: Welt.\nEnglish sentence: World.");
  write_file(dir.path / "flores200" / "dev" / "eng_Latn.dev", "Hello.\n");
  CHECK_THAT(gemma::test::error_of([&] { t.load_fewshot(dir.path); }),
             Contains("deu_Latn.dev has 2 sentences") && Contains("eng_Latn.dev has 1"));
  write_file(dir.path / "flores200" / "dev" / "eng_Latn.dev", "Hello.\n\nWorld.\n");
  CHECK_THAT(gemma::test::error_of([&] { t.load_fewshot(dir.path); }), Contains("eng_Latn.dev:2: empty line"));
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }), Contains("deu_Latn.devtest"));
}

// --------------------------------------------- Global-MMLU-Lite (lm-eval lm_eval/tasks/global_mmlu/default/*@4e7e0d47)

namespace {

// A row in the published CohereLabs/Global-MMLU-Lite layout (all its columns), as JSONL.
std::string lite_row(const std::string& question, const std::string& answer, const std::string& category) {
  nlohmann::ordered_json row;
  row["sample_id"] = "astronomy/test/0";
  row["subject"] = "astronomy";
  row["subject_category"] = category;
  row["question"] = question;
  row["option_a"] = "一";
  row["option_b"] = "二";
  row["option_c"] = "三";
  row["option_d"] = "四";
  row["answer"] = answer;
  row["required_knowledge"] = "[]";
  row["time_sensitive"] = "[]";
  row["reference"] = "[]";
  row["culture"] = "[]";
  row["region"] = "[]";
  row["country"] = "[]";
  row["cultural_sensitivity_label"] = "CA";
  row["is_annotated"] = true;
  return row.dump() + "\n";
}

}  // namespace

TEST_CASE("global_mmlu_lite: 15 languages x 6 categories", "[tasks][global_mmlu]") {
  const auto tasks = tasks_named({"global_mmlu"});
  REQUIRE(tasks.size() == 90);
  const TaskSpec& t = find_task(tasks, "global_mmlu_ja_social_sciences");
  CHECK(t.groups == std::vector<std::string>{"global_mmlu_ja", "global_mmlu"});
  CHECK(t.version == 0);
  CHECK(t.default_shots == 0);
  CHECK(t.sampler == ShotSampler::Random);
  CHECK_FALSE(t.sampler_gets_eval_doc);
  CHECK(t.output_type == OutputType::MultipleChoice);
  CHECK(t.metrics.at(0).name == "acc");
  for (const char* name : {"global_mmlu_ar_business", "global_mmlu_yo_stem", "global_mmlu_zh_medical",
                           "global_mmlu_en_humanities", "global_mmlu_sw_other"})
    CHECK_NOTHROW(find_task(tasks, name));
}

TEST_CASE("global_mmlu_lite: loader filters by category and renders the English scaffold", "[tasks][global_mmlu]") {
  gemma::test::TempDir dir;
  write_file(dir.path / "global_mmlu_lite" / "ja" / "test.jsonl", lite_row("  太陽はどれですか？ ", "C", "STEM") +
                                                                      lite_row("経済は？", "A", "Social Sciences") +
                                                                      lite_row("月は？", "D", "STEM"));
  write_file(dir.path / "global_mmlu_lite" / "ja" / "dev.jsonl", lite_row("水は？", "B", "STEM"));
  const auto tasks = tasks_named({"global_mmlu"});
  const TaskSpec& stem = find_task(tasks, "global_mmlu_ja_stem");
  const DocSplit test = stem.load_eval(dir.path);
  CHECK(test.name == "test");
  REQUIRE(test.docs.size() == 2);
  CHECK(test.files.at(0).rows == 2);
  CHECK(stem.doc_to_text(test.docs[0]) == "太陽はどれですか？\nA. 一\nB. 二\nC. 三\nD. 四\nAnswer:");
  CHECK(stem.doc_to_choice(test.docs[0]) == std::vector<std::string>{"A", "B", "C", "D"});
  CHECK(stem.doc_to_gold(test.docs[0]) == 2);
  CHECK(stem.doc_to_gold(test.docs[1]) == 3);
  CHECK(test.docs[0].at("cultural_sensitivity_label") == "CA");  // rows are kept whole
  const DocSplit dev = stem.load_fewshot(dir.path);
  REQUIRE(dev.docs.size() == 1);
  CHECK(stem.doc_to_target(dev.docs[0]) == "B");
  CHECK(find_task(tasks, "global_mmlu_ja_social_sciences").load_eval(dir.path).docs.size() == 1);
  CHECK(find_task(tasks, "global_mmlu_ja_business").load_eval(dir.path).docs.empty());
}

TEST_CASE("global_mmlu_lite: bad rows name file line and field", "[tasks][global_mmlu]") {
  gemma::test::TempDir dir;
  const TaskSpec t = find_task(tasks_named({"global_mmlu"}), "global_mmlu_de_stem");
  const fs::path file = dir.path / "global_mmlu_lite" / "de" / "test.jsonl";
  write_file(file, lite_row("q", "A", "STEM") + lite_row("q", "E", "STEM"));
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }), Contains("test.jsonl:2") && Contains("\"answer\""));
  write_file(file, lite_row("q", "A", "Science"));
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }),
             Contains("test.jsonl:1") && Contains("subject_category"));
  write_file(file, R"({"question": "q", "option_a": "x"})"
                   "\n");
  CHECK_THAT(gemma::test::error_of([&] { t.load_eval(dir.path); }), Contains("test.jsonl:1") && Contains("option_b"));
  CHECK_THAT(gemma::test::error_of([&] { t.load_fewshot(dir.path); }), Contains("dev.jsonl"));
}
