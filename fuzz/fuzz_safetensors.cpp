// libFuzzer target: the safetensors reader (8-byte header length, JSON header, data section).
// SafetensorsFile::open takes a path, so the input is written to a memfd and opened through
// /proc/self/fd/N. gemma::Error is the expected outcome for bad input; any other exception, crash,
// sanitizer report or hang is a finding.
#include <sys/mman.h>
#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "model/safetensors.h"

namespace {

int memfd = -1;
std::string memfd_path;

void write_input(const uint8_t* data, size_t size) {
  if (::ftruncate(memfd, 0) != 0) std::abort();
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pwrite(memfd, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) std::abort();
    done += static_cast<size_t>(n);
  }
}

// What the model layer relies on once open() succeeded.
void check_invariants(const gemma::SafetensorsFile& file, size_t input_size) {
  uint64_t total = 0;
  for (const gemma::TensorView& tensor : file.tensors()) {
    if (file.find(tensor.name) != &tensor) std::abort();
    uint64_t numel = static_cast<uint64_t>(tensor.numel());
    if (numel * gemma::dtype_size(tensor.dtype) != tensor.nbytes) std::abort();
    total += tensor.nbytes;
    // Touch every byte: an offset outside the mapping faults here.
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < tensor.nbytes; ++i) sink = sink ^ tensor.data[i];
    if ((tensor.dtype == gemma::DType::F32 || tensor.dtype == gemma::DType::Bf16 ||
         tensor.dtype == gemma::DType::F16) &&
        numel <= (1u << 20)) {
      std::vector<float> out(numel + 1);
      gemma::convert_to_float32(tensor, out.data());
    }
  }
  if (total > input_size) std::abort();
  (void)file.metadata();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  memfd = ::memfd_create("fuzz_safetensors", MFD_CLOEXEC);
  if (memfd < 0) {
    std::perror("memfd_create");
    std::abort();
  }
  memfd_path = "/proc/self/fd/" + std::to_string(memfd);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  write_input(data, size);
  try {
    auto file = gemma::SafetensorsFile::open(memfd_path);
    check_invariants(*file, size);
  } catch (const gemma::Error&) {
  }
  return 0;
}
