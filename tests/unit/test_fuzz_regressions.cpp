// Inputs that once crashed (or were made by hand to try to crash) the input parsers, kept in
// tests/fuzz_regressions/<target>/ and replayed here with the normal build. Each file's outcome is
// pinned in tests/fuzz_regressions/expected_outcomes.txt: accepted, or a gemma::Error naming the file
// whose message holds a given substring. A changed outcome, a file without a line there, or a line
// without a file fails; a crash, hang or any other exception fails anyway. scripts/fuzz.sh replays
// the same folders through the libFuzzer targets (ASan + UBSan) before fuzzing (the manifest lies
// beside the target folders, so libFuzzer never reads it as an input).
#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "datasets/csv.h"
#include "datasets/jsonl.h"
#include "evals/task_file.h"
#include "model/config.h"
#include "model/hf_tokenizer.h"
#include "model/safetensors.h"

using namespace gemma;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

const fs::path kRegressions = fs::path(GEMMA_TEST_SOURCE_DIR) / "tests" / "fuzz_regressions";

std::vector<fs::path> regression_files(const std::string& target) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kRegressions / target))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

const fs::path kExpectedOutcomes = kRegressions / "expected_outcomes.txt";

// One input's pinned outcome: accepted, or a gemma::Error whose message contains `error`.
struct ExpectedOutcome {
  bool accepted = false;
  std::string error;
};

// expected_outcomes.txt: "<target>/<file> accepted" or "<target>/<file> error: <substring>" per line;
// blank lines and lines starting with '#' are comments. Keyed by "<target>/<file>".
const std::map<std::string, ExpectedOutcome>& expected_outcomes() {
  static const std::map<std::string, ExpectedOutcome> table = [] {
    std::map<std::string, ExpectedOutcome> out;
    std::ifstream in(kExpectedOutcomes);
    if (!in) throw std::runtime_error("cannot read " + kExpectedOutcomes.string());
    size_t line_number = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_number;
      if (line.empty() || line[0] == '#') continue;
      const std::string at = kExpectedOutcomes.string() + ":" + std::to_string(line_number) + ": ";
      const size_t space = line.find(' ');
      if (space == std::string::npos)
        throw std::runtime_error(at + "expected \"<target>/<file> accepted|error: <text>\"");
      const std::string key = line.substr(0, space), outcome = line.substr(space + 1);
      ExpectedOutcome expected;
      if (outcome == "accepted") {
        expected.accepted = true;
      } else if (outcome.rfind("error: ", 0) == 0 && outcome.size() > 7) {
        expected.error = outcome.substr(7);
      } else {
        throw std::runtime_error(at + "the outcome must be \"accepted\" or \"error: <message substring>\"");
      }
      if (!out.emplace(key, expected).second) throw std::runtime_error(at + "a second line for " + key);
    }
    return out;
  }();
  return table;
}

// Runs `parse` on every file of the target's folder and checks the outcome pinned for it: accepted,
// or a gemma::Error naming the file and containing the pinned text.
template <typename Parse>
void replay(const std::string& target, Parse parse) {
  const std::vector<fs::path> files = regression_files(target);
  REQUIRE_FALSE(files.empty());
  for (const fs::path& file : files) {
    const std::string key = target + "/" + file.filename().string();
    INFO(key);
    const auto expected = expected_outcomes().find(key);
    std::string error;
    bool accepted = true;
    try {
      parse(file);
    } catch (const Error& e) {
      accepted = false;
      error = e.what();
      CHECK_THAT(error, Contains(file.filename().string()));
    }
    if (expected == expected_outcomes().end()) {
      FAIL_CHECK("no pinned outcome: add \"" << key << (accepted ? " accepted" : " error: <part of the message>")
                                             << "\" to " << kExpectedOutcomes.string()
                                             << " (got: " << (accepted ? "accepted" : error) << ")");
      continue;
    }
    if (expected->second.accepted) {
      if (!accepted) FAIL_CHECK("pinned as accepted, but failed with: " << error);
    } else if (accepted) {
      FAIL_CHECK("pinned as failing with \"" << expected->second.error << "\", but was accepted");
    } else {
      CHECK_THAT(error, Contains(expected->second.error));
    }
  }
}

// Writes text to a file in dir and returns its path.
fs::path write(const fs::path& dir, const std::string& name, const std::string& text) {
  fs::path path = dir / name;
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
  return path;
}

std::string nested_arrays(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// Deep enough to overflow the stack of a recursive dump or copy (about 100 000 levels do on an 8 MB
// stack), so the nesting limits must stop these before anything recurses.
constexpr size_t kDeep = 400'000;

// The same use the libFuzzer target makes of a tokenizer that loads.
void exercise(const HfTokenizer& tokenizer) {
  for (std::string_view text :
       {std::string_view("Hello world! <bos>\n\n  double  spaces"),
        std::string_view("\xC3\xBC \xF0\x9F\x99\x82 \xFF\xFE <unk><eos>"), std::string_view()}) {
    std::vector<int> ids = tokenizer.encode(text);
    for (int id : ids) {
      REQUIRE(id >= 0);
      REQUIRE(id < tokenizer.vocab_size());
      (void)tokenizer.piece_to_id(tokenizer.piece(id));
    }
    (void)tokenizer.decode(ids, true);
    (void)tokenizer.decode(ids, false);
  }
}

HfTokenizer load_tokenizer_input(const fs::path& file) {
  // As the libFuzzer target reads its input: tokenizer.json, then optionally NUL + tokenizer_config.json.
  const std::string input = read_file(file);
  const size_t nul = input.find('\0');
  const std::string tokenizer_json = input.substr(0, nul);
  const std::string config_json = nul == std::string::npos ? std::string() : input.substr(nul + 1);
  return HfTokenizer(tokenizer_json, config_json, file);
}

}  // namespace

TEST_CASE("fuzz regressions: safetensors files open or fail with gemma::Error", "[fuzz]") {
  replay("safetensors", [](const fs::path& file) {
    auto opened = SafetensorsFile::open(file);
    for (const TensorView& tensor : opened->tensors()) {
      REQUIRE(opened->find(tensor.name) == &tensor);
      REQUIRE(static_cast<uint64_t>(tensor.numel()) * dtype_size(tensor.dtype) == tensor.nbytes);
    }
  });
}

TEST_CASE("fuzz regressions: config.json files load or fail with gemma::Error", "[fuzz]") {
  replay("config", [](const fs::path& file) {
    ModelConfig config = load_config(file);
    REQUIRE(config.text.layer_types.size() == static_cast<size_t>(config.text.num_layers));
  });
}

TEST_CASE("fuzz regressions: tokenizer.json files load (and encode) or fail with gemma::Error", "[fuzz]") {
  replay("tokenizer", [](const fs::path& file) { exercise(load_tokenizer_input(file)); });
}

TEST_CASE("fuzz regressions: JSONL files parse or fail with gemma::Error", "[fuzz]") {
  replay("jsonl", [](const fs::path& file) {
    for (const auto& record : datasets::read_jsonl(file)) {
      nlohmann::ordered_json copy = record.value;  // docs are copied and logged (dumped) downstream
      (void)copy.dump();
    }
  });
}

TEST_CASE("fuzz regressions: CSV files parse or fail with gemma::Error", "[fuzz]") {
  replay("csv", [](const fs::path& file) {
    for (const auto& record : datasets::read_csv(file)) REQUIRE_FALSE(record.fields.empty());
  });
}

TEST_CASE("fuzz regressions: lm-eval task files load (and render) or fail with gemma::Error", "[fuzz]") {
  replay("task_file", [](const fs::path& file) {
    const nlohmann::ordered_json row = {
        {"question", "What color is the sky?"}, {"options", {"blue", "green"}}, {"answer", 0}};
    for (const evals::TaskSpec& task : evals::load_task_file(file).tasks) {
      if (task.doc_to_text) (void)task.doc_to_text(row);
      if (task.doc_to_choice) (void)task.doc_to_choice(row);
    }
  });
}

TEST_CASE("fuzz regressions: every pinned outcome names a kept input", "[fuzz]") {
  // A line whose file was renamed or removed would pin nothing.
  for (const auto& [key, expected] : expected_outcomes()) {
    INFO(kExpectedOutcomes.string() << ": " << key);
    CHECK(fs::is_regular_file(kRegressions / key));
  }
}

// ---- the bugs found, one by one, with the message each now gives ----

TEST_CASE("fuzz: a task file that is not UTF-8, or whose aliases expand without end, is refused by name",
          "[fuzz][task_files]") {
  // yaml-cpp passed the bytes on into the config, and writing a group's aggregate_metric_list key into the
  // error message threw nlohmann's invalid-UTF-8 exception instead of a gemma::Error.
  test::TempDir dir("gemma-fuzz-task-file");
  const fs::path file = write(dir.path, "bad.yaml", "task: t\ndoc_to_text: \"a\xff\"\n");
  try {
    evals::load_task_file(file);
    FAIL("expected gemma::Error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Contains(file.string() + ":2:16:") && Contains("not UTF-8"));
  }
  // Aliases of aliases: ten lines that expand to 10^10 values. Walking them took forever (a fuzzer timeout);
  // they are counted, without recursion, and refused.
  std::string laughs = "task: t\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 10; ++i) {
    laughs += fmt::format("x{}: &a{} [", i, i);
    for (int j = 0; j < 10; ++j) laughs += fmt::format("{}*a{}", j ? ", " : "", i - 1);
    laughs += "]\n";
  }
  const fs::path aliases = write(dir.path, "aliases.yaml", laughs);
  CHECK_THROWS_WITH(evals::load_task_file(aliases),
                    Contains(aliases.string()) && Contains("more than 100000 YAML values once its aliases"));
  // Valid multi-byte text is read as it stands.
  const fs::path good =
      write(dir.path, "good.yaml",
            "task: t\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: x.jsonl\ntest_split: test\n"
            "output_type: generate_until\ndoc_to_text: \"caf\xC3\xA9 {{q}}\"\ndoc_to_target: a\n");
  const auto set = evals::load_task_file(good);
  REQUIRE(set.tasks.size() == 1);
  CHECK(set.tasks[0].doc_to_text(nlohmann::ordered_json{{"q", "?"}}) == "caf\xC3\xA9 ?");
}

TEST_CASE("fuzz: an empty safetensors tensor whose other dims overflow int64 has numel 0", "[fuzz]") {
  // U8 [2^32, 2^32 - 1, 0]: valid (0 bytes), but numel() multiplied past int64 before reaching the 0.
  auto file = SafetensorsFile::open(kRegressions / "safetensors/numel-overflow-zero-dim.safetensors");
  REQUIRE(file->tensors().size() == 1);
  CHECK(file->tensors()[0].numel() == 0);
  CHECK(shape_numel({4294967296, 4294967295, 0}) == 0);
}

TEST_CASE("fuzz: a config.json with 2e9 layers is refused instead of allocating gigabytes", "[fuzz]") {
  const fs::path file = kRegressions / "config/huge-num-hidden-layers.json";
  REQUIRE_THROWS_WITH(load_config(file), Contains(file.string()) && Contains("'num_hidden_layers'") &&
                                             Contains("2000000000") && Contains("65536"));
}

TEST_CASE("fuzz: tokenizer.json ids far above the token count are refused", "[fuzz]") {
  // One token with id 1e9 made the id table 32 GB.
  const fs::path vocab_file = kRegressions / "tokenizer/huge-vocab-id.json";
  REQUIRE_THROWS_WITH(load_tokenizer_input(vocab_file),
                      Contains(vocab_file.string()) && Contains("model.vocab[\"a\"] = 1000000000 is not a valid id") &&
                          Contains("must be below"));
  const fs::path added_file = kRegressions / "tokenizer/huge-added-token-id.json";
  REQUIRE_THROWS_WITH(load_tokenizer_input(added_file),
                      Contains("added_tokens[0] has no valid \"id\"") && Contains("must be below"));
}

TEST_CASE("fuzz: a tokenizer.json Strip decoder must strip one character a counted number of times", "[fuzz]") {
  // Empty content with start = 2^31 - 1 looped two billion times per token when decoding.
  REQUIRE_THROWS_WITH(load_tokenizer_input(kRegressions / "tokenizer/strip-empty-content.json"),
                      Contains("decoder Strip.content must be one character"));
  // start = 1e30 was converted to int (undefined behaviour).
  REQUIRE_THROWS_WITH(load_tokenizer_input(kRegressions / "tokenizer/strip-float-start.json"),
                      Contains("decoder Strip.start must be a non-negative integer"));
}

TEST_CASE("fuzz: tokenizer.json model.vocab values must all be integers", "[fuzz]") {
  // A boolean value used to be stored into model itself (here overwriting model.type).
  REQUIRE_THROWS_WITH(load_tokenizer_input(kRegressions / "tokenizer/vocab-non-integer-values.json"),
                      Contains("model.vocab[\"type\"] must be an integer id"));
}

TEST_CASE("fuzz: a JSONL number out of double range is a gemma::Error naming file and line", "[fuzz]") {
  // nlohmann throws out_of_range (not parse_error) for 1e400; it escaped parse_jsonl.
  REQUIRE_THROWS_WITH(datasets::parse_jsonl("{\"a\": 1}\n[1e400]\n", "numbers.jsonl"),
                      Contains("numbers.jsonl:2: invalid JSON") && Contains("1e400"));
  REQUIRE_THROWS_AS(datasets::read_jsonl(kRegressions / "jsonl/crash-number-overflow-1e400.jsonl"), Error);
}

TEST_CASE("fuzz: deeply nested JSON is refused by every parser before anything recurses", "[fuzz]") {
  test::TempDir dir;
  const std::string deep = nested_arrays(kDeep);

  SECTION("safetensors header") {
    std::string header = "{\"x\":{\"dtype\":\"F32\",\"shape\":" + deep + ",\"data_offsets\":[0,0]}}";
    uint64_t size = header.size();
    fs::path path = write(dir.path, "deep.safetensors", std::string(reinterpret_cast<const char*>(&size), 8) + header);
    REQUIRE_THROWS_WITH(SafetensorsFile::open(path), Contains(path.string()) && Contains("nests deeper than"));
  }
  SECTION("config.json: a field dumped in a message") {
    fs::path path = write(dir.path, "config.json", "{\"model_type\":\"gemma3_text\",\"hidden_size\":" + deep + "}");
    REQUIRE_THROWS_WITH(load_config(path),
                        Contains(path.string()) && Contains("'hidden_size'") && Contains("nests deeper than"));
  }
  SECTION("config.json: vision_config, which is copied") {
    fs::path path = write(dir.path, "config.json",
                          "{\"model_type\":\"gemma3\",\"text_config\":{\"hidden_size\":8,\"intermediate_size\":8,"
                          "\"num_hidden_layers\":1,\"head_dim\":4,\"sliding_window\":4},\"vision_config\":{\"a\":" +
                              deep + "}}");
    REQUIRE_THROWS_WITH(load_config(path), Contains("'vision_config'") && Contains("nests deeper than"));
  }
  SECTION("tokenizer.json") {
    std::string text = "{\"added_tokens\":[],\"normalizer\":" + deep +
                       ",\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}";
    REQUIRE_THROWS_WITH(HfTokenizer(text, "", "deep/tokenizer.json"),
                        Contains("deep/tokenizer.json") && Contains("nested deeper than"));
  }
  SECTION("JSONL") {
    REQUIRE_THROWS_WITH(datasets::parse_jsonl("{\"a\":1}\n" + deep + "\n", "deep.jsonl"),
                        Contains("deep.jsonl:2") && Contains("nested deeper than"));
    // Brackets inside strings are data, not nesting.
    std::string in_string = "{\"a\":\"" + deep + "\"}\n";
    REQUIRE(datasets::parse_jsonl(in_string, "brackets.jsonl").size() == 1);
  }
}
