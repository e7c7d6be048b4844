#pragma once
// Shared by the dataset and task tests: where the real data and the bundled samples are, and a task
// looked up by its exact name.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "evals/task_registry.h"

namespace gemma::test {

inline const std::filesystem::path kSharedData = std::filesystem::path(GEMMA_TEST_SHARED_DIR) / "data";
inline const std::filesystem::path kBundledSamples = std::filesystem::path(GEMMA_TEST_SOURCE_DIR) / "datasets" / "samples";

inline const evals::TaskSpec& task_named(const std::string& name) {
  const auto tasks = evals::resolve_tasks(name);
  REQUIRE(tasks.size() == 1);
  return *tasks[0];
}

}  // namespace gemma::test
