// Inputs that must be refused, not absorbed into a plausible result: token ids beyond int, image soft
// tokens without an image, integer flags out of range, a file-size limit; and a logits run that fails
// part way leaves nothing new behind. Also `tokenize --text-file` for text argv cannot carry.
#include "cli_runner.h"  // first: it includes model_fixtures.h (see the note there)

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <fstream>
#include <map>
#include <sstream>

#include "../support/temp_dir.h"
#include "../support/text_files.h"
#include "model/model_files.h"
#include "model/tokenizer.h"

using namespace gemma;
using namespace gemma::test;
namespace fs = std::filesystem;
using Catch::Contains;
using nlohmann::json;

namespace {

fs::path tiny_vision_dir() { return reference_dir() / "tiny-vision"; }

// Every file under `dir` (relative path -> contents), hidden ones included.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    files[fs::relative(entry.path(), dir).string()] = entry.is_regular_file() ? read_text(entry.path()) : "<dir>";
  return files;
}

struct ChildOutcome {
  bool exited = false;  // false: it died of a signal
  int exit_code = -1, signal = 0;
  std::string output;  // stdout and stderr
};

// gemma-eval run with `args` as a user's shell starts it: SIGXFSZ at its default action (which kills),
// here under a file-size limit of `limit_bytes` (ulimit -f).
ChildOutcome run_with_file_size_limit(const std::vector<std::string>& args, rlim_t limit_bytes) {
  const std::string binary = std::string(GEMMA_TEST_BINARY_DIR) + "/gemma-eval";
  std::vector<std::string> words = {binary};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    ::close(fds[1]);
    std::signal(SIGXFSZ, SIG_DFL);
    const rlimit limit{limit_bytes, limit_bytes};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  ChildOutcome outcome;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;)
    outcome.output.append(buffer, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  outcome.exited = WIFEXITED(status);
  outcome.exit_code = outcome.exited ? WEXITSTATUS(status) : -1;
  outcome.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return outcome;
}

}  // namespace

TEST_CASE("logits: token ids are range-checked as 64-bit numbers, not after narrowing", "[refused][logits]") {
  TempDir dir("gemma-eval-logits-ids");
  const int vocab = read_json(tiny_text_dir() / "config.json")["vocab_size"].get<int>();
  struct Case {
    std::string id, expected;
  };
  const std::vector<Case> cases = {
      {"4294967298", "token id 4294967298 is outside"},  // 2^32 + 2: narrowed to int it was id 2
      {"4294967296", "token id 4294967296 is outside"},
      {"18446744073709551615", "token id 18446744073709551615 is outside"},
      {"-1", "token id -1 is outside"},
      {"-4294967294", "token id -4294967294 is outside"},  // -2^32 + 2: also 2 as an int
      {std::to_string(vocab), "token id " + std::to_string(vocab) + " is outside"},
      {"3.0", "not an integer token id"},
      {"2.5", "not an integer token id"},
      {"1e3", "not an integer token id"},
      {"18446744073709551618", "not an integer token id"},  // beyond 64 bits: JSON reads it as a float
      {"\"7\"", "not an integer token id"},
  };
  for (const Case& c : cases) {
    INFO(c.id);
    write_text(dir.path / "input.json", R"({"sequences": [[2, 3], [2, )" + c.id + "]]}");
    const fs::path out = dir.path / "out";
    CliRun cli = run_cli("logits --model " + quote(tiny_text_dir()) + " --input " + quote(dir.path / "input.json") +
                         " --output " + quote(out));
    INFO(cli.output);
    CHECK(cli.status == 1);
    CHECK_THAT(cli.output, Contains("sequences[1][1]") && Contains(c.expected));
    CHECK_FALSE(fs::exists(out));
  }
  // The largest id is accepted.
  write_text(dir.path / "input.json", "{\"sequences\": [[2, " + std::to_string(vocab - 1) + "]]}");
  CliRun ok = run_cli("logits --model " + quote(tiny_text_dir()) + " --input " + quote(dir.path / "input.json") +
                      " --output " + quote(dir.path / "ok"));
  INFO(ok.output);
  CHECK(ok.status == 0);
}

TEST_CASE("logits: image soft tokens need their images", "[refused][logits][vision]") {
  TempDir dir("gemma-eval-logits-soft-tokens");
  const json manifest = read_json(tiny_vision_dir() / "expected" / "manifest.json");
  const json ids = manifest["sequences"][0]["ids"];  // one image's block of 4 soft tokens
  const int image_token = read_json(tiny_vision_dir() / "config.json")["image_token_index"].get<int>();
  REQUIRE(std::count(ids.begin(), ids.end(), image_token) == 4);
  fs::copy_file(tiny_vision_dir() / "image0.png", dir.path / "image0.png");

  SECTION("soft tokens and no image") {
    write_text(dir.path / "input.json", json({{"sequences", json::array({ids})}}).dump());
    CliRun cli = run_cli("logits --model " + quote(tiny_vision_dir()) + " --input " + quote(dir.path / "input.json") +
                         " --output " + quote(dir.path / "out"));
    INFO(cli.output);
    CHECK(cli.status == 1);
    CHECK_THAT(cli.output, Contains("sequences[0] has 4 image soft tokens (id " + std::to_string(image_token) + ")") &&
                               Contains("its 0 image(s) give 0 embeddings"));
    CHECK_FALSE(fs::exists(dir.path / "out"));
  }
  SECTION("an image and only part of its block") {
    json partial = ids;
    partial.erase(std::find(partial.begin(), partial.end(), image_token));
    write_text(dir.path / "input.json", json({{"sequences", {{{"ids", partial}, {"images", {"image0.png"}}}}}}).dump());
    CliRun cli = run_cli("logits --model " + quote(tiny_vision_dir()) + " --input " + quote(dir.path / "input.json") +
                         " --output " + quote(dir.path / "out"));
    INFO(cli.output);
    CHECK(cli.status == 1);
    CHECK_THAT(cli.output, Contains("has 3 image soft tokens") && Contains("its 1 image(s) give 4 embeddings"));
  }
}

TEST_CASE("logits: a failure part way leaves nothing new; success replaces the folder's contents as a unit",
          "[refused][logits][vision]") {
  TempDir dir("gemma-eval-logits-unit");
  const json manifest = read_json(tiny_vision_dir() / "expected" / "manifest.json");
  const json image_ids = manifest["sequences"][0]["ids"];
  write_text(dir.path / "broken.png", "not a png at all");  // fails when sequence 1 gets to it
  fs::copy_file(tiny_vision_dir() / "image0.png", dir.path / "image0.png");
  const json failing = {
      {"sequences", {json::array({2, 105, 2364, 107}), {{"ids", image_ids}, {"images", {"broken.png"}}}}}};
  write_text(dir.path / "failing.json", failing.dump());
  auto logits = [&](const std::string& input, const fs::path& out) {
    return run_cli("logits --model " + quote(tiny_vision_dir()) + " --input " + quote(dir.path / input) + " --output " +
                   quote(out));
  };

  SECTION("into a new folder: no folder, not even the new parents") {
    CliRun cli = logits("failing.json", dir.path / "new" / "deeper");
    INFO(cli.output);
    CHECK(cli.status == 1);
    CHECK_THAT(cli.output, Contains("broken.png"));
    CHECK_FALSE(fs::exists(dir.path / "new"));
  }
  SECTION("into a folder holding an earlier run: exactly the earlier files") {
    const fs::path out = dir.path / "earlier";
    fs::create_directories(out);
    write_text(out / "summary.json", "{\"earlier\": true}\n");
    write_text(out / "logits_0.npy", "earlier 0");
    write_text(out / "logits_7.npy", "earlier 7");
    write_text(out / "notes.txt", "the user's");
    const auto before = snapshot(out);
    CliRun cli = logits("failing.json", out);
    INFO(cli.output);
    CHECK(cli.status == 1);
    CHECK(snapshot(out) == before);

    // A run that succeeds: this run's files and summary, the earlier run's logits files gone, other files kept.
    const json good = {
        {"sequences", {json::array({2, 105, 2364, 107}), {{"ids", image_ids}, {"images", {"image0.png"}}}}}};
    write_text(dir.path / "good.json", good.dump());
    CliRun ok = logits("good.json", out);
    INFO(ok.output);
    REQUIRE(ok.status == 0);
    const auto after = snapshot(out);
    std::vector<std::string> names;
    for (const auto& [name, contents] : after) names.push_back(name);
    CHECK(names == std::vector<std::string>{"logits_0.npy", "logits_1.npy", "notes.txt", "summary.json"});
    CHECK(read_json(out / "summary.json")["sequences"].size() == 2);
    CHECK(npy_tensor(out / "logits_1.npy").size(0) == static_cast<int64_t>(image_ids.size()));
  }
}

TEST_CASE("integer flags out of range are refused naming the flag", "[refused][flags]") {
  TempDir dir("gemma-eval-int-flags");
  const std::string run = "run --task arc_easy --no-progress --no-cache --output " + quote(dir.path / "out") + " ";
  struct Case {
    std::string args, flag, value;
  };
  const std::vector<Case> cases = {
      {run + "--shard 0/4294967297", "--shard", "0/4294967297"},  // was 0/1: the whole task as one "shard"
      {run + "--shard 4294967296/4294967297", "--shard", "4294967296/4294967297"},
      {run + "--shard -1/2", "--shard", "-1/2"},
      {run + "--shard 2/2", "--shard", "2/2"},
      {run + "--shard 0/0", "--shard", "0/0"},
      {run + "--shard 0/2x", "--shard", "0/2x"},
      {run + "--shard 0/+2", "--shard", "0/+2"},
      {run + "--shard ' 0/2'", "--shard", " 0/2"},
      {run + "--limit -1", "--limit", "-1"},
      {run + "--limit 99999999999999999999", "--limit", "99999999999999999999"},
      {run + "--limit 0x10", "--limit", "0x10"},  // Python's float() refuses it ("1e3" is lm-eval's 1000)
      {run + "--shots -1", "--shots", "-1"},
      {run + "--shots 4294967296", "--shots", "4294967296"},
      {run + "--shots 2.5", "--shots", "2.5"},
      {run + "--seed -1", "--seed", "-1"},  // was 2^64-1
      {run + "--seed 18446744073709551616", "--seed", "18446744073709551616"},
      {run + "--batch-size 0", "--batch-size", "0"},
      {run + "--batch-size 4294967297", "--batch-size", "4294967297"},
      {run + "--batch-size -4", "--batch-size", "-4"},
      {run + "--max-length -1", "--max-length", "-1"},
      {run + "--max-length 4294967296", "--max-length", "4294967296"},
      {run + "--threads -1", "--threads", "-1"},
      {run + "--threads 4294967297", "--threads", "4294967297"},
      {run + "--threads 100000", "--threads", "100000"},
      {"generate --prompt hi --max-new-tokens -1", "--max-new-tokens", "-1"},
      {"generate --prompt hi --max-new-tokens 4294967297", "--max-new-tokens", "4294967297"},
      {"logits --input x.json --output o --threads -2", "--threads", "-2"},
      {"history show --db " + quote(dir.path / "h.sqlite") + " --last -1", "--last", "-1"},
      {"history show --db " + quote(dir.path / "h.sqlite") + " --last 18446744073709551616", "--last",
       "18446744073709551616"},
  };
  for (const Case& c : cases) {
    INFO(c.args);
    CliRun cli = run_cli(c.args);
    INFO(cli.output);
    CHECK(cli.status != 0);
    CHECK_THAT(cli.output, Contains(c.flag) && Contains(c.value));
    CHECK_FALSE(fs::exists(dir.path / "out"));
  }
}

TEST_CASE("integer flags are read as decimal: --limit 010 is ten documents", "[refused][flags]") {
  TempDir dir("gemma-eval-int-decimal");
  CliRun cli =
      run_cli("run --task arc_easy --shots 0 --limit 010 --no-progress --no-cache --output " + quote(dir.path / "out"));
  INFO(cli.output);
  REQUIRE(cli.status == 0);
  const json results = read_json(dir.path / "out" / "results.json");
  CHECK(results["config"]["limit"] == 10);  // CLI11's base-0 strtol made it octal 8
}

TEST_CASE("tokenize --text-file: a NUL byte and stdin reach the tokenizer", "[refused][tokenize]") {
  TempDir dir("gemma-eval-text-file");
  const std::string text("The capital\0of France\n", 22);
  write_text(dir.path / "text.bin", text);
  const auto tokenizer = open_model_files(tiny_text_dir().string()).tokenizer;
  const std::string expected = json(tokenizer->encode_with_bos(text)).dump();
  // What argv could carry: the text up to the NUL.
  REQUIRE(expected != json(tokenizer->encode_with_bos(std::string("The capital"))).dump());

  CliRun from_file =
      run_cli("tokenize --model " + quote(tiny_text_dir()) + " --bos --text-file " + quote(dir.path / "text.bin"));
  INFO(from_file.output);
  CHECK(from_file.status == 0);
  CHECK(from_file.output == expected + "\n");

  CliRun from_stdin =
      run_cli("tokenize --model " + quote(tiny_text_dir()) + " --bos --text-file - < " + quote(dir.path / "text.bin"));
  INFO(from_stdin.output);
  CHECK(from_stdin.status == 0);
  CHECK(from_stdin.output == expected + "\n");

  CliRun both =
      run_cli("tokenize --model " + quote(tiny_text_dir()) + " --text hi --text-file " + quote(dir.path / "text.bin"));
  CHECK(both.status != 0);
  CHECK(run_cli("tokenize --model " + quote(tiny_text_dir())).status != 0);
  CliRun missing = run_cli("tokenize --model " + quote(tiny_text_dir()) + " --text-file " + quote(dir.path / "nope"));
  CHECK(missing.status != 0);
  CHECK_THAT(missing.output, Contains((dir.path / "nope").string()));
}

TEST_CASE("a file-size limit is an error naming the file, not death by SIGXFSZ", "[refused][disk]") {
  TempDir dir("gemma-eval-fsize");
  const fs::path cache = dir.path / "cache";
  // 64 KiB: the result cache's write-ahead log outgrows it part way through the run.
  const ChildOutcome outcome =
      run_with_file_size_limit({"run", "--task", "arc_challenge", "--limit", "40", "--shots", "0", "--no-progress",
                                "--cache", cache.string(), "--output", (dir.path / "out").string()},
                               64 * 1024);
  INFO(outcome.output);
  CHECK(outcome.exited);
  CHECK(outcome.signal == 0);
  CHECK(outcome.exit_code != 0);
  CHECK_THAT(outcome.output, Contains((cache / "gemma-eval-cache.sqlite").string()));
}
