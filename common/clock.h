#pragma once
// Wall-clock time as the reports write it. Torch-free.
#include <string>

namespace gemma {

// The current UTC time as ISO 8601 to the second: "2026-12-07T00:12:39Z".
std::string now_utc();

}  // namespace gemma
