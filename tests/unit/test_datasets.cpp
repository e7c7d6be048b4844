// Dataset readers (CSV, JSON Lines) and every task loader: on hand-made malformed input (errors must
// name file, line and field), on the real data in ../shared/data (published row counts), and on the
// built-in samples in datasets/samples.
#include <catch2/catch.hpp>

#include "tests/support/task_fixtures.h"

#include "tests/support/temp_dir.h"

#include <filesystem>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "datasets/csv.h"
#include "datasets/jsonl.h"
#include "evals/task_registry.h"

using namespace gemma;
using namespace gemma::evals;
using Catch::Contains;
using gemma::test::TempDir;
namespace fs = std::filesystem;

namespace {

const fs::path& kData = gemma::test::kSharedData;
const fs::path& kSamples = gemma::test::kBundledSamples;

const TaskSpec& task(const std::string& name) { return gemma::test::task_named(name); }

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  write_file_atomic(path, text);
}

// The message of the gemma::Error `f` throws (fails the test if it throws nothing).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const gemma::Error& e) {
    return e.what();
  }
  FAIL("expected a gemma::Error");
  return "";
}

// The expected sha256 of `name` from a sha256sum-format file.
std::string sha256_from_sums(const fs::path& sums, const std::string& name) {
  const std::string text = read_file(sums);
  const size_t at = text.find("  " + name + "\n");
  REQUIRE(at != std::string::npos);
  return text.substr(at - 64, 64);
}

}  // namespace

// ---------------------------------------------------------------- CSV

TEST_CASE("csv: plain and quoted fields, RFC 4180", "[datasets][csv]") {
  const auto records = datasets::parse_csv(
      "a,b,c\n"
      "\"x, y\",\"say \"\"hi\"\"\",\"\"\n"
      "\"two\nlines\",\"crlf\r\ninside\",3\r\n"
      "last,,\n",
      "t.csv");
  REQUIRE(records.size() == 4);
  CHECK(records[0].fields == std::vector<std::string>{"a", "b", "c"});
  CHECK(records[1].fields == std::vector<std::string>{"x, y", "say \"hi\"", ""});
  CHECK(records[2].fields == std::vector<std::string>{"two\nlines", "crlf\r\ninside", "3"});
  CHECK(records[3].fields == std::vector<std::string>{"last", "", ""});
  // Record lines count physical lines (LF or CRLF inside quotes too), so record 3 spans lines 3-5.
  CHECK(records[0].line == 1);
  CHECK(records[1].line == 2);
  CHECK(records[2].line == 3);
  CHECK(records[3].line == 6);
}

TEST_CASE("csv: CRLF records, blank lines, BOM, no final newline", "[datasets][csv]") {
  const auto records = datasets::parse_csv("\xEF\xBB\xBFq,1\r\n\r\nr,2\r\n\ns,3", "t.csv");
  REQUIRE(records.size() == 3);
  CHECK(records[0].fields == std::vector<std::string>{"q", "1"});
  CHECK(records[1].fields == std::vector<std::string>{"r", "2"});
  CHECK(records[1].line == 3);
  CHECK(records[2].fields == std::vector<std::string>{"s", "3"});
  CHECK(records[2].line == 5);
  CHECK(datasets::parse_csv("", "t.csv").empty());
}

TEST_CASE("csv: malformed quoting fails with file and line", "[datasets][csv]") {
  const std::string unterminated = error_of([] { datasets::parse_csv("a,b\nc,\"open\nmore\n", "bad.csv"); });
  CHECK_THAT(unterminated,
             Contains("bad.csv:4") && Contains("field 2") && Contains("unterminated") && Contains("opened on line 2"));

  const std::string after_quote = error_of([] { datasets::parse_csv("a,b\nc,\"x\"y,d\n", "bad.csv"); });
  CHECK_THAT(after_quote, Contains("bad.csv:2") && Contains("field 2") && Contains("after a closing quote"));

  const std::string bare_quote = error_of([] { datasets::parse_csv("a,b\n\nc,d\ne\"f,g\n", "bad.csv"); });
  CHECK_THAT(bare_quote, Contains("bad.csv:4") && Contains("field 1") && Contains("unquoted"));

  CHECK_THAT(error_of([] { datasets::read_csv("/nonexistent/x.csv"); }), Contains("/nonexistent/x.csv"));
}

TEST_CASE("csv: invalid UTF-8 fails with file and line, as JSONL does", "[datasets][csv]") {
  // Latin-1 'é' (0xE9) in an unquoted field on line 2.
  CHECK_THAT(error_of([] { datasets::parse_csv("q,a\ncaf\xE9,b\n", "latin1.csv"); }),
             Contains("latin1.csv:2:") && Contains("invalid UTF-8") && Contains("0xe9") && Contains("column 4"));
  // Inside a quoted multi-line field: the physical line of the bad byte.
  CHECK_THAT(error_of([] { datasets::parse_csv("a,\"one\ntwo \xFF\",b\n", "q.csv"); }), Contains("q.csv:2:"));
  // Ill-formed though the lead byte looks plausible: truncated, overlong, a surrogate, above U+10FFFF.
  for (const std::string bad : {"x\xE2\x82", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\x80"}) {
    INFO(bad.size());
    CHECK_THAT(error_of([&] { datasets::parse_csv("h\n" + bad + ",1\n", "t.csv"); }), Contains("t.csv:2:"));
  }
  // The same bytes JSONL refuses.
  CHECK_THAT(error_of([] { datasets::parse_jsonl("{\"q\": \"caf\xE9\"}\n", "t.jsonl"); }), Contains("t.jsonl:1"));
  // Well-formed multi-byte text (2, 3 and 4 bytes) and a BOM still load.
  const auto records = datasets::parse_csv("\xEF\xBB\xBF\xC3\xA9,\xE2\x82\xAC,\xF0\x9F\x98\x80\n", "ok.csv");
  REQUIRE(records.size() == 1);
  CHECK(records[0].fields == std::vector<std::string>{"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"});
}

// ---------------------------------------------------------------- JSON Lines

TEST_CASE("jsonl: rows with line numbers, CRLF, trailing blank lines, BOM", "[datasets][jsonl]") {
  const auto records = datasets::parse_jsonl("\xEF\xBB\xBF{\"b\": 1, \"a\": 2}\r\n[1,2]\n\"s\"\n\n  \n", "t.jsonl");
  REQUIRE(records.size() == 3);
  CHECK(records[0].line == 1);
  CHECK(records[0].value.dump() == R"({"b":1,"a":2})");  // key order kept
  CHECK(records[1].value.is_array());
  CHECK(records[2].line == 3);
  CHECK(records[2].value == "s");
}

TEST_CASE("jsonl: a bad line or an inner blank line fails with file:line", "[datasets][jsonl]") {
  const std::string bad = error_of([] { datasets::parse_jsonl("{\"a\": 1}\n{\"a\": 2}\n{\"a\": }\n", "d.jsonl"); });
  CHECK_THAT(bad, Contains("d.jsonl:3: invalid JSON") && Contains("parse error"));

  const std::string blank = error_of([] { datasets::parse_jsonl("{}\n\n{}\n", "d.jsonl"); });
  CHECK_THAT(blank, Contains("d.jsonl:2") && Contains("empty line"));

  CHECK_THAT(error_of([] { datasets::read_jsonl("/nonexistent/y.jsonl"); }), Contains("/nonexistent/y.jsonl"));
}

// ---------------------------------------------------------------- loaders on the real data

TEST_CASE("real data: MMLU, all 57 subjects", "[datasets][real][mmlu]") {
  const auto subjects = resolve_tasks("mmlu");
  REQUIRE(subjects.size() == 57);
  size_t test_rows = 0, dev_rows = 0;
  std::map<std::string, size_t> test_counts;
  for (const TaskSpec* t : subjects) {
    const DocSplit test = t->load_eval(kData);
    const DocSplit dev = t->load_fewshot(kData);
    CHECK(test.name == "test");
    CHECK(dev.name == "dev");
    CHECK(dev.docs.size() == 5);
    REQUIRE(test.files.size() == 1);
    CHECK(test.files[0].rows == test.docs.size());
    test_counts[t->name] = test.docs.size();
    test_rows += test.docs.size();
    dev_rows += dev.docs.size();
    for (const Doc& doc : test.docs) {
      REQUIRE(doc.at("choices").size() == 4);
      REQUIRE(doc.at("answer").get<int>() >= 0);
      REQUIRE(doc.at("answer").get<int>() <= 3);
    }
  }
  // ../shared/data/mmlu is the 2020-09-08 pre-release (its MANIFEST): 14,079 test rows, not the
  // canonical 14,042; 10 subjects differ, the rest have canonical counts.
  CHECK(test_rows == 14079);
  CHECK(dev_rows == 285);
  CHECK(test_counts["mmlu_abstract_algebra"] == 100);
  CHECK(test_counts["mmlu_anatomy"] == 135);
  CHECK(test_counts["mmlu_professional_law"] == 1534);
  CHECK(test_counts["mmlu_machine_learning"] == 105);  // canonical 112

  const DocSplit algebra = task("mmlu_abstract_algebra").load_eval(kData);
  CHECK(algebra.files[0].sha256 == sha256_from_sums(kData / "mmlu" / "SHA256SUMS", "test/abstract_algebra_test.csv"));
  CHECK(algebra.docs[0].at("subject") == "abstract_algebra");
}

TEST_CASE("real data: ARC", "[datasets][real][arc]") {
  const DocSplit challenge = task("arc_challenge").load_eval(kData);
  CHECK(challenge.name == "test");
  CHECK(challenge.docs.size() == 1172);
  CHECK(challenge.files.at(0).sha256 == "9fa8ffb3e3a1f88cb302d53dd95aae81e39209ad9bcf974376b319d8fd35717c");
  CHECK(task("arc_challenge").load_fewshot(kData).docs.size() == 1119);
  CHECK(task("arc_easy").load_eval(kData).docs.size() == 2376);
  CHECK(task("arc_easy").load_fewshot(kData).docs.size() == 2251);

  size_t numeric = 0;
  for (const Doc& doc : challenge.docs)
    if (doc.at("choices").at("label").at(0) == "1") ++numeric;
  CHECK(numeric > 0);  // the "1".."4" label rows are there and loaded
}

TEST_CASE("real data: PIQA, BoolQ, GSM8K", "[datasets][real]") {
  const DocSplit piqa = task("piqa").load_eval(kData);
  CHECK(piqa.name == "validation");
  CHECK(piqa.docs.size() == 1838);
  REQUIRE(piqa.files.size() == 2);  // valid.jsonl and valid-labels.lst
  CHECK(piqa.files[1].path.find("valid-labels.lst") != std::string::npos);
  CHECK(piqa.files[1].rows == 1838);

  const DocSplit boolq = task("boolq").load_eval(kData);
  CHECK(boolq.docs.size() == 3270);
  CHECK(boolq.files.at(0).sha256 == "21acbfbd1e7908fddd9e626bc2a6101c5a5430bda3fbf74985b979af7a63b989");
  const size_t yes = std::accumulate(boolq.docs.begin(), boolq.docs.end(), size_t{0},
                                     [](size_t n, const Doc& d) { return n + d.at("label").get<int>(); });
  CHECK(yes == 2033);  // BoolQ validation: 62.2% "yes"

  CHECK(task("gsm8k").load_eval(kData).docs.size() == 1319);
  CHECK(task("gsm8k").load_fewshot(kData).docs.size() == 7473);
  CHECK(task("gsm8k_cot").load_eval(kData).docs.size() == 1319);
}

// ---------------------------------------------------------------- the built-in samples

TEST_CASE("samples: every task loads the bundled data", "[datasets][samples]") {
  const std::map<std::string, std::pair<size_t, size_t>> expected = {
      {"hellaswag", {10, 12}}, {"arc_challenge", {30, 60}}, {"piqa", {30, 0}},
      {"boolq", {30, 0}},      {"winogrande", {10, 10}},    {"social_iqa", {10, 5}},
      {"gsm8k", {20, 40}},     {"gsm8k_cot", {20, 8}},      {"arc_easy", {30, 0}},
  };
  for (const auto& [name, rows] : expected) {
    INFO(name);
    const TaskSpec& t = task(name);
    CHECK(t.load_eval(kSamples).docs.size() == rows.first);
    if (rows.second > 0) CHECK(t.load_fewshot(kSamples).docs.size() == rows.second);
  }
  size_t test_rows = 0;
  for (const TaskSpec* t : resolve_tasks("mmlu")) {
    INFO(t->name);
    test_rows += t->load_eval(kSamples).docs.size();
    CHECK(t->load_fewshot(kSamples).docs.size() == 5);
  }
  CHECK(test_rows == 6 * 10 + 51 * 2);
  CHECK(task("mmlu_anatomy").load_eval(kSamples).docs.size() == 10);
}

TEST_CASE("samples: the real subsets are the first rows of the shared data", "[datasets][samples]") {
  for (const char* name : {"arc_challenge", "piqa", "boolq", "gsm8k", "mmlu_anatomy", "mmlu_college_mathematics"}) {
    INFO(name);
    const DocSplit sample = task(name).load_eval(kSamples);
    const DocSplit full = task(name).load_eval(kData);
    REQUIRE(sample.docs.size() <= full.docs.size());
    for (size_t i = 0; i < sample.docs.size(); ++i) CHECK(sample.docs[i] == full.docs[i]);
  }
  // The whole dev files are copied (CRLF inside quoted fields included).
  CHECK(task("mmlu_college_mathematics").load_fewshot(kSamples).docs ==
        task("mmlu_college_mathematics").load_fewshot(kData).docs);
}

// ---------------------------------------------------------------- row validation

TEST_CASE("loaders: bad rows name file, line and field", "[datasets][validation]") {
  TempDir dir;
  const fs::path d = dir.path;

  SECTION("ARC") {
    const std::string good =
        R"({"id": "x1", "question": {"stem": "Q?", "choices": [{"text": "a", "label": "A"}, {"text": "b", )"
        R"("label": "B"}]}, "answerKey": "B"})";
    write(d / "arc/ARC-Challenge-Test.jsonl",
          good + "\n" + R"({"id": "x2", "question": {"stem": "Q?", "choices": []}})" + "\n");
    CHECK_THAT(error_of([&] { task("arc_challenge").load_eval(d); }),
               Contains("ARC-Challenge-Test.jsonl:2") && Contains("doc_fields.answerKey"));
    write(d / "arc/ARC-Challenge-Test.jsonl",
          good + "\n" + R"({"id": "x2", "question": {"stem": "Q?", "choices": [{"text": "a", "label": "A"}]}})" + "\n");
    CHECK_THAT(error_of([&] { task("arc_challenge").load_eval(d); }),
               Contains("ARC-Challenge-Test.jsonl:2: task arc_challenge: gemma_eval.doc_fields.answerKey") &&
                   Contains("'answerKey' is undefined"));
    write(d / "arc/ARC-Challenge-Test.jsonl", good + "\n" + good.substr(0, good.size() - 5) + "\"E\"}\n");
    CHECK_THAT(error_of([&] { task("arc_challenge").load_eval(d); }),
               Contains("ARC-Challenge-Test.jsonl:2: task arc_challenge: gemma_eval.doc_fields.answerKey") &&
                   Contains("answerKey E is not one of the choice labels A, B"));
    write(d / "arc/ARC-Challenge-Test.jsonl", good + "\n{\"id\": 5}\n");
    CHECK_THAT(
        error_of([&] { task("arc_challenge").load_eval(d); }),
        Contains(":2: task arc_challenge: gemma_eval.doc_fields.question") && Contains("'question' is undefined"));
  }
  SECTION("MMLU") {
    write(d / "mmlu/test/anatomy_test.csv", "Q1,a,b,c,d,A\nQ2,a,b,c,d\n");
    CHECK_THAT(error_of([&] { task("mmlu_anatomy").load_eval(d); }),
               Contains("anatomy_test.csv:2: 5 fields") && Contains("names 6 columns"));
    write(d / "mmlu/test/anatomy_test.csv", "Q1,a,b,c,d,A\n\"Q2\nsecond line\",a,b,c,d,A\nQ3,a,b,c,d,E\n");
    CHECK_THAT(error_of([&] { task("mmlu_anatomy").load_eval(d); }),
               Contains("anatomy_test.csv:4: task mmlu_anatomy: gemma_eval.doc_fields.answer") &&
                   Contains("'E' is not in list"));
  }
  SECTION("PIQA") {
    write(d / "piqa/valid.jsonl",
          "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\"}\n{\"goal\": \"g\", \"sol1\": \"a\"}\n");
    write(d / "piqa/valid-labels.lst", "0\n1\n");
    CHECK_THAT(error_of([&] { task("piqa").load_eval(d); }),
               Contains("valid.jsonl:2: task piqa: gemma_eval.doc_fields.sol2") && Contains("'sol2' is undefined"));
    write(d / "piqa/valid-labels.lst", "0\n");
    CHECK_THAT(error_of([&] { task("piqa").load_eval(d); }),
               Contains("valid-labels.lst has 1 labels") && Contains("valid.jsonl has 2 rows"));
    write(d / "piqa/valid.jsonl", "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\"}\n");
    write(d / "piqa/valid-labels.lst", "2\n");
    CHECK_THAT(error_of([&] { task("piqa").load_eval(d); }),
               Contains("valid.jsonl:1: task piqa: gemma_eval.doc_fields.label") && Contains("'2' is not in list"));
  }
  SECTION("BoolQ label forms") {
    write(d / "boolq/val.jsonl",
          "{\"question\": \"q\", \"passage\": \"p\", \"idx\": 0, \"label\": true}\n"
          "{\"question\": \"q\", \"passage\": \"p\", \"idx\": 1, \"label\": \"false\"}\n"
          "{\"question\": \"q\", \"passage\": \"p\", \"idx\": 2, \"label\": 1}\n");
    const DocSplit split = task("boolq").load_eval(d);
    REQUIRE(split.docs.size() == 3);
    CHECK(split.docs[0].at("label") == 1);
    CHECK(split.docs[1].at("label") == 0);
    CHECK(split.docs[2].at("label") == 1);
    write(d / "boolq/val.jsonl", "{\"question\": \"q\", \"passage\": \"p\", \"idx\": 0, \"label\": \"maybe\"}\n");
    CHECK_THAT(error_of([&] { task("boolq").load_eval(d); }),
               Contains("val.jsonl:1: task boolq: gemma_eval.doc_fields.label") && Contains("'maybe' is not in list"));
  }
  SECTION("GSM8K") {
    write(d / "gsm8k/test.jsonl",
          "{\"question\": \"q\", \"answer\": \"#### 1\"}\n{\"question\": 7, \"answer\": \"a\"}\n");
    CHECK_THAT(
        error_of([&] { task("gsm8k").load_eval(d); }),
        Contains("test.jsonl:2: task gsm8k: gemma_eval.doc_fields.question: ") && Contains("expected a string, got 7"));
  }
  SECTION("HellaSwag") {
    const std::string row =
        R"({"ind": 1, "activity_label": "A", "ctx_a": "x", "ctx_b": "y", "ctx": "x y", "split": "val", )"
        R"("split_type": "indomain", "label": 4, "endings": ["a", "b", "c", "d"], "source_id": "s"})";
    write(d / "hellaswag/hellaswag_val.jsonl", row + "\n");
    CHECK_THAT(error_of([&] { task("hellaswag").load_eval(d); }),
               Contains("hellaswag_val.jsonl:1: field \"label\": 4 is out of range"));
    write(d / "hellaswag/hellaswag_val.jsonl",
          R"({"activity_label": "A", "ctx_a": "x", "ctx_b": "y", "endings": "abcd", "label": 0})"
          "\n");
    CHECK_THAT(error_of([&] { task("hellaswag").load_eval(d); }), Contains(":1: field \"endings\": expected an array"));
  }
  SECTION("WinoGrande") {
    write(d / "winogrande/winogrande_1.1/dev.jsonl",
          "{\"sentence\": \"A _ b.\", \"option1\": \"x\", \"option2\": \"y\", \"answer\": \"1\"}\n"
          "{\"sentence\": \"no blank\", \"option1\": \"x\", \"option2\": \"y\", \"answer\": \"1\"}\n");
    CHECK_THAT(error_of([&] { task("winogrande").load_eval(d); }), Contains("dev.jsonl:2: field \"sentence\""));
    write(d / "winogrande/winogrande_1.1/dev.jsonl",
          "{\"sentence\": \"A _ b.\", \"option1\": \"x\", \"option2\": \"y\", \"answer\": 1}\n");
    CHECK_THAT(error_of([&] { task("winogrande").load_eval(d); }),
               Contains("dev.jsonl:1: field \"answer\": expected a string"));
  }
  SECTION("SocialIQA") {
    const fs::path folder = d / "social_iqa/socialiqa-train-dev";
    write(folder / "dev.jsonl",
          "{\"context\": \"c\", \"question\": \"q\", \"answerA\": \"a\", \"answerB\": \"b\", \"answerC\": \"c\"}\n");
    write(folder / "dev-labels.lst", "4\n");
    CHECK_THAT(error_of([&] { task("social_iqa").load_eval(d); }),
               Contains("dev.jsonl:1: task social_iqa: gemma_eval.doc_fields.label: ") &&
                   Contains("label 4 is not one of 1, 2, 3"));
  }
}
