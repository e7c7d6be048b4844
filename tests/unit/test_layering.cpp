// The layers of the source tree link only downward (docs/design.md): each folder is one CMake library,
//   common <- datasets, scorers, model, sandbox <- evals <- engine <- reports <- cli,
// and an #include of a folder that is not below is a wrong-way dependency. CMake alone would let a
// header-only use through (every library shares the root include path), so this test reads every
// #include of the tree and fails naming the file, the line and the folder it may not reach.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {

// What each folder may include besides itself. Tensors (LibTorch) stay in model/ and engine/.
const std::map<std::string, std::set<std::string>>& allowed_includes() {
  static const std::map<std::string, std::set<std::string>> allowed = {
      {"common", {}},
      {"datasets", {"common"}},
      {"scorers", {"common"}},
      {"model", {"common"}},
      {"sandbox", {"common"}},
      {"evals", {"common", "datasets", "scorers", "model", "sandbox"}},
      {"engine", {"common", "datasets", "scorers", "model", "sandbox", "evals"}},
      {"reports", {"common", "datasets", "scorers", "model", "sandbox", "evals", "engine"}},
      {"cli", {"common", "datasets", "scorers", "model", "sandbox", "evals", "engine", "reports"}},
  };
  return allowed;
}
const std::set<std::string> kTorchFolders = {"model", "engine"};

struct Violation {
  std::string where;  // file:line
  std::string what;
};

std::vector<Violation> layering_violations(const fs::path& root) {
  const std::regex project_include(R"(^\s*#\s*include\s*"([a-z_]+)/)");
  const std::regex torch_include(R"(^\s*#\s*include\s*<(torch|ATen|c10)/)");
  std::vector<Violation> violations;
  for (const auto& [folder, may_include] : allowed_includes()) {
    for (const auto& entry : fs::recursive_directory_iterator(root / folder)) {
      const std::string extension = entry.path().extension().string();
      if (!entry.is_regular_file() || (extension != ".h" && extension != ".cpp")) continue;
      std::ifstream in(entry.path());
      std::string line;
      for (int number = 1; std::getline(in, line); ++number) {
        const std::string where = fs::relative(entry.path(), root).string() + ":" + std::to_string(number);
        std::smatch match;
        if (std::regex_search(line, match, project_include)) {
          const std::string target = match[1];
          if (target != folder && allowed_includes().count(target) && !may_include.count(target))
            violations.push_back({where, folder + "/ may not include " + target + "/ (not below it)"});
        } else if (std::regex_search(line, match, torch_include) && !kTorchFolders.count(folder)) {
          violations.push_back({where, folder + "/ may not include LibTorch (<" + match[1].str() + "/...>)"});
        }
      }
    }
  }
  return violations;
}

}  // namespace

TEST_CASE("every include of the source tree points down the layers") {
  const std::vector<Violation> violations = layering_violations(GEMMA_TEST_SOURCE_DIR);
  for (const Violation& v : violations) UNSCOPED_INFO(v.where << ": " << v.what);
  CHECK(violations.empty());
}

TEST_CASE("the layering check finds a wrong-way include") {
  const fs::path root = fs::temp_directory_path() / ("gemma_layering_" + std::to_string(::getpid()));
  fs::remove_all(root);
  for (const auto& [folder, unused] : allowed_includes()) fs::create_directories(root / folder);
  std::ofstream(root / "scorers" / "bad.h") << "#pragma once\n#include \"evals/task.h\"\n";
  std::ofstream(root / "reports" / "tensor.cpp") << "#include <torch/torch.h>\n";
  std::ofstream(root / "evals" / "fine.cpp") << "#include \"scorers/exact_match.h\"\n#include \"evals/task.h\"\n";
  const std::vector<Violation> violations = layering_violations(root);
  fs::remove_all(root);
  REQUIRE(violations.size() == 2);
  std::set<std::string> where;
  for (const Violation& v : violations) where.insert(v.where);
  CHECK(where == std::set<std::string>{"scorers/bad.h:2", "reports/tensor.cpp:1"});
}
