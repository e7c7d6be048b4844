#pragma once
// Levenshtein distance between two byte strings, for "did you mean" suggestions (unknown task names,
// task-file keys, command-line flags). Torch-free.
#include <cstddef>
#include <string_view>

namespace gemma {

// The fewest single-byte insertions, deletions and substitutions that turn `a` into `b`.
size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace gemma
