#include "model/cpu_features.h"

#include <cstdlib>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "common/error.h"

namespace gemma {
namespace {

struct NamedFeature {
  const char* name;
  bool CpuFeatures::*flag;
};

const NamedFeature kFeatureNames[] = {
    {"avx2", &CpuFeatures::avx2},
    {"fma", &CpuFeatures::fma},
    {"avx512f", &CpuFeatures::avx512f},
    {"avx512bw", &CpuFeatures::avx512bw},
    {"avx512vl", &CpuFeatures::avx512vl},
    {"avx512dq", &CpuFeatures::avx512dq},
    {"avx512_bf16", &CpuFeatures::avx512_bf16},
    {"amx_bf16", &CpuFeatures::amx_bf16},
};

#if defined(__x86_64__) || defined(__i386__)
// XCR0: which register states the OS saves on a context switch. A feature whose registers the OS
// does not save must not be used even when cpuid lists it.
uint64_t read_xcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}
#endif

}  // namespace

std::string CpuFeatures::summary() const {
  if (native_bf16()) {
    if (avx512_bf16 && amx_bf16) return "AVX512_BF16+AMX";
    return avx512_bf16 ? "AVX512_BF16" : "AMX_BF16";
  }
  if (avx512_core()) return "AVX512 without BF16";
  return avx2 ? "AVX2 only" : "no AVX2";
}

std::string CpuFeatures::names() const {
  std::string text;
  for (const auto& feature : kFeatureNames)
    if (this->*feature.flag) text += (text.empty() ? "" : ",") + std::string(feature.name);
  return text.empty() ? "none" : text;
}

CpuFeatures detect_cpu_features() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool osxsave = ecx & (1u << 27), avx = ecx & (1u << 28);
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = read_xcr0();
  const bool os_avx = (xcr0 & 0x6) == 0x6;                    // XMM and YMM state
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;     // opmask, ZMM0-15 upper halves, ZMM16-31
  const bool os_amx = (xcr0 & (3ull << 17)) == (3ull << 17);  // XTILECFG and XTILEDATA
  if (!os_avx) return f;
  f.fma = ecx & (1u << 12);
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const unsigned leaf7_max_subleaf = eax;
  f.avx2 = ebx & (1u << 5);
  if (os_avx512) {
    f.avx512f = ebx & (1u << 16);
    f.avx512dq = ebx & (1u << 17);
    f.avx512bw = ebx & (1u << 30);
    f.avx512vl = ebx & (1u << 31);
  }
  // Linux also wants arch_prctl(ARCH_REQ_XCOMP_PERM) before the first tile instruction: oneDNN,
  // the only user of AMX here, asks for it itself.
  f.amx_bf16 = os_amx && (edx & (1u << 22)) && (edx & (1u << 24));
  if (leaf7_max_subleaf >= 1 && os_avx512) {
    __cpuid_count(7, 1, eax, ebx, ecx, edx);
    f.avx512_bf16 = eax & (1u << 5);
  }
#endif
  return f;
}

CpuFeatures restrict_cpu_features(const CpuFeatures& detected, const std::string& override_list) {
  CpuFeatures listed;
  size_t start = 0;
  while (start <= override_list.size()) {
    size_t comma = override_list.find(',', start);
    std::string name = override_list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (name != "none" || override_list != "none") {
      bool known = false;
      for (const auto& feature : kFeatureNames)
        if (name == feature.name) listed.*feature.flag = known = true;
      if (!known)
        fail(
            "GEMMA_EVAL_CPU_FEATURES={}: unknown feature '{}' (expected a comma-separated list of avx2, fma, "
            "avx512f, avx512bw, avx512vl, avx512dq, avx512_bf16, amx_bf16, or none)",
            override_list, name);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  CpuFeatures narrowed;
  for (const auto& feature : kFeatureNames) narrowed.*feature.flag = detected.*feature.flag && listed.*feature.flag;
  return narrowed;
}

namespace {
std::string& recorded_capability_reason() {
  static std::string reason;
  return reason;
}
}  // namespace

std::string choose_aten_cpu_capability(const CpuFeatures& cpu) {
  const char* current = std::getenv("ATEN_CPU_CAPABILITY");
  std::string reason;
  if (current && *current)
    reason = std::string("ATEN_CPU_CAPABILITY=") + current + " set by the user";
  else if (!cpu.avx512_core())
    reason = "ATEN_CPU_CAPABILITY unset: the CPU (features " + cpu.names() + ") lacks AVX512F/BW/VL/DQ";
  else if (setenv("ATEN_CPU_CAPABILITY", "avx512", /*overwrite=*/0) == 0)
    reason =
        "ATEN_CPU_CAPABILITY=avx512 set by gemma-eval: the CPU has AVX512F/BW/VL/DQ (LibTorch 1.13 keeps it opt-in)";
  else
    reason = "ATEN_CPU_CAPABILITY unset: setenv failed";
  recorded_capability_reason() = reason;
  return reason;
}

const std::string& aten_cpu_capability_reason() { return recorded_capability_reason(); }

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = [] {
    const char* override_list = std::getenv("GEMMA_EVAL_CPU_FEATURES");
    CpuFeatures detected = detect_cpu_features();
    return override_list && *override_list ? restrict_cpu_features(detected, override_list) : detected;
  }();
  return features;
}

}  // namespace gemma
