#pragma once
// What this x86-64 CPU (and the OS, which must save the wider registers) can run, read at run time
// with cpuid/xgetbv: it picks the compute dtype of `--dtype auto` on CPU, LibTorch's elementwise
// kernel level (ATEN_CPU_CAPABILITY) and whether the AVX512-BF16 matrix-vector kernel may run.
//
// GEMMA_EVAL_CPU_FEATURES=avx2 (a comma-separated list of the names below, or "none") narrows what is
// detected, to see how a CPU without bf16 is handled on one that has it. It can only take features
// away: a kernel whose instructions the CPU lacks never runs.
#include <string>

namespace gemma {

struct CpuFeatures {
  bool avx2 = false, fma = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512_bf16 = false;  // VDPBF16PS and friends (cpuid leaf 7 subleaf 1, EAX bit 5)
  bool amx_bf16 = false;     // AMX tiles with bf16 (leaf 7 EDX bits 22 and 24) and the OS saving tile state

  // avx512f + bw + vl + dq: what ATen's AVX512 kernels and oneDNN's avx512_core need.
  bool avx512_core() const { return avx512f && avx512bw && avx512vl && avx512dq; }
  // A bf16 matrix product in hardware (oneDNN's avx512_core_bf16 or AMX kernels).
  bool native_bf16() const { return avx512_core() && (avx512_bf16 || amx_bf16); }
  // "AVX512_BF16+AMX", "AVX512_BF16", "AVX512 without BF16", "AVX2 only", "no AVX2".
  std::string summary() const;
  // The feature names as GEMMA_EVAL_CPU_FEATURES spells them, comma-separated ("none" if empty).
  std::string names() const;
};

// What cpuid and xgetbv report (features the OS does not enable count as absent).
CpuFeatures detect_cpu_features();

// `detected` narrowed to the comma-separated names of `override_list` (avx2, fma, avx512f,
// avx512bw, avx512vl, avx512dq, avx512_bf16, amx_bf16; or "none"). An unknown name is an error.
CpuFeatures restrict_cpu_features(const CpuFeatures& detected, const std::string& override_list);

// detect_cpu_features(), narrowed by GEMMA_EVAL_CPU_FEATURES when set; computed once per process.
const CpuFeatures& cpu_features();

// LibTorch 1.13 picks its elementwise kernels (GELU's tanh, softmax, norms, adds, casts) once, at the
// first dispatch, from the environment variable ATEN_CPU_CAPABILITY, and keeps AVX512 opt-in
// (aten/src/ATen/native/DispatchStub.cpp: without the variable it stops at AVX2). Where `cpu` has
// AVX512F/BW/VL/DQ and the variable is unset, this sets ATEN_CPU_CAPABILITY=avx512 (measured in
// docs/performance.md: bf16 prefill +8-16%, fp32 unchanged); a value the user set is kept. It must
// run before the first torch operation: first thing in main(). Returns why, as recorded with the
// results ("set to avx512 by gemma-eval: the CPU has AVX512F/BW/VL/DQ"), and remembers it for
// aten_cpu_capability_reason().
std::string choose_aten_cpu_capability(const CpuFeatures& cpu);

// What the last choose_aten_cpu_capability() in this process returned ("" before any call).
const std::string& aten_cpu_capability_reason();

}  // namespace gemma
