#include "model/kernels/amx_bf16_linear.h"

#include <atomic>
#include <cstring>
#include <vector>

#include <torch/torch.h>

#include "common/error.h"
#include "model/cpu_features.h"
#include "model/kernels/parallel_rows.h"

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#define GEMMA_AMX_X86 1
#endif

namespace gemma {
namespace {

std::atomic<bool> amx_enabled{true};

constexpr int64_t kTileRows = 16;   // weight rows per tile (the output's columns)
constexpr int64_t kTileDepth = 32;  // bf16 elements of K per tile: 16 pairs of 64 bytes

#ifdef GEMMA_AMX_X86
// Linux keeps AMX's 8 KB of tile data off until a process asks for it (arch/x86/include/uapi/asm/prctl.h;
// Documentation/arch/x86/xstate.rst): without it the first tile instruction raises SIGILL. Asked once per
// process; it covers every thread. oneDNN asks the same, so a second request is harmless.
bool tile_data_granted() {
  static const bool granted = [] {
    constexpr long kArchReqXcompPerm = 0x1023;
    constexpr long kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return granted;
}

// The 64-byte operand of LDTILECFG (Intel SDM vol. 2, LDTILECFG): palette 1, bytes per row and rows per tile.
struct alignas(64) TileConfig {
  uint8_t palette_id = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// Tiles: 0, 1 sums (C) of two blocks of 16 weight rows; 2, 3 those blocks' weights (A, 16 rows x 32
// bf16 straight from W); 4 x's pairs (B, 16 pairs of K x M columns). C is [16 weight rows, M].
TileConfig tile_config(int64_t M) {
  TileConfig config;
  for (int t : {0, 1}) config.rows[t] = kTileRows, config.colsb[t] = static_cast<uint16_t>(M * 4);
  for (int t : {2, 3}) config.rows[t] = kTileRows, config.colsb[t] = kTileDepth * 2;
  config.rows[4] = kTileDepth / 2, config.colsb[4] = static_cast<uint16_t>(M * 4);
  return config;
}

#define GEMMA_AMX_TARGET __attribute__((target("amx-tile,amx-bf16")))

// The intrinsics are asm statements that name no memory operand: this tells the compiler that tile
// stores have written memory and that tile loads may read what was written before.
inline void memory_barrier() { asm volatile("" ::: "memory"); }

// Sums of weight blocks [block_begin, block_end) (16 rows each) with M rows of x, given as VNNI pairs
// `pairs` [K / 2][M] (32-bit: x[m][2k], x[m][2k + 1]); out[m * N + n] rounded to bf16.
GEMMA_AMX_TARGET void tile_blocks(const uint16_t* w, const uint32_t* pairs, int64_t M, int64_t K, int64_t N,
                                  at::BFloat16* out, int64_t block_begin, int64_t block_end) {
  const TileConfig config = tile_config(M);
  _tile_loadconfig(&config);
  const long w_stride = static_cast<long>(K * 2), x_stride = static_cast<long>(M * 4);
  alignas(64) float sums[2][kTileRows * kAmxLinearMaxRows];
  auto write = [&](const float* block_sums, int64_t n0) {
    for (int64_t r = 0; r < kTileRows; ++r)
      for (int64_t m = 0; m < M; ++m) out[m * N + n0 + r] = at::BFloat16(block_sums[r * M + m]);
  };
  memory_barrier();
  int64_t b = block_begin;
  // Two blocks per pass: two independent chains of tile products over the same load of x.
  for (; b + 2 <= block_end; b += 2) {
    const uint16_t* w0 = w + b * kTileRows * K;
    const uint16_t* w1 = w0 + kTileRows * K;
    _tile_zero(0);
    _tile_zero(1);
    for (int64_t k = 0; k < K; k += kTileDepth) {
      _tile_loadd(4, pairs + k / 2 * M, x_stride);
      _tile_loadd(2, w0 + k, w_stride);
      _tile_loadd(3, w1 + k, w_stride);
      _tile_dpbf16ps(0, 2, 4);
      _tile_dpbf16ps(1, 3, 4);
    }
    _tile_stored(0, sums[0], x_stride);
    _tile_stored(1, sums[1], x_stride);
    memory_barrier();
    write(sums[0], b * kTileRows);
    write(sums[1], (b + 1) * kTileRows);
  }
  if (b < block_end) {
    const uint16_t* w0 = w + b * kTileRows * K;
    _tile_zero(0);
    for (int64_t k = 0; k < K; k += kTileDepth) {
      _tile_loadd(4, pairs + k / 2 * M, x_stride);
      _tile_loadd(2, w0 + k, w_stride);
      _tile_dpbf16ps(0, 2, 4);
    }
    _tile_stored(0, sums[0], x_stride);
    memory_barrier();
    write(sums[0], b * kTileRows);
  }
  _tile_release();
}
#endif

}  // namespace

bool amx_bf16_linear_available() {
#ifdef GEMMA_AMX_X86
  return amx_enabled.load(std::memory_order_relaxed) && cpu_features().amx_bf16 && tile_data_granted();
#else
  return false;
#endif
}

void set_amx_bf16_linear_enabled(bool enabled) { amx_enabled.store(enabled, std::memory_order_relaxed); }

bool amx_bf16_linear_applies(const torch::Tensor& x, const torch::Tensor& weight) {
  if (x.scalar_type() != torch::kBFloat16 || weight.scalar_type() != torch::kBFloat16 || !x.device().is_cpu() ||
      !weight.device().is_cpu() || weight.dim() != 2 || !weight.is_contiguous() || x.dim() < 1)
    return false;
  const int64_t K = weight.size(1);
  if (K == 0 || K % kTileDepth != 0 || x.size(-1) != K) return false;
  const int64_t rows = x.numel() / K;
  return rows >= 1 && rows <= kAmxLinearMaxRows && amx_bf16_linear_available();
}

torch::Tensor amx_bf16_linear(const torch::Tensor& x, const torch::Tensor& weight) {
  if (!amx_bf16_linear_applies(x, weight))
    fail(
        "internal: amx_bf16_linear takes bf16 CPU x [..., K] with 1 to {} rows and contiguous weight [N, K], K a "
        "multiple of {}, on a CPU with AMX-BF16; got x {} {} and weight {} {}",
        kAmxLinearMaxRows, kTileDepth, c10::toString(x.scalar_type()), c10::str(x.sizes()),
        c10::toString(weight.scalar_type()), c10::str(weight.sizes()));
  const int64_t K = weight.size(1), N = weight.size(0);
  auto rows = x.reshape({-1, K}).contiguous();
  const int64_t M = rows.size(0);
  auto out = torch::empty({M, N}, rows.options());
#ifdef GEMMA_AMX_X86
  // x as the B tile wants it (VNNI layout): for each pair of K, the M rows' two bf16 side by side.
  std::vector<uint32_t> pairs(static_cast<size_t>(K / 2 * M));
  const auto* xs = reinterpret_cast<const uint32_t*>(rows.data_ptr<at::BFloat16>());
  for (int64_t m = 0; m < M; ++m)
    for (int64_t p = 0; p < K / 2; ++p) pairs[p * M + m] = xs[m * (K / 2) + p];
  const auto* w = reinterpret_cast<const uint16_t*>(weight.data_ptr<at::BFloat16>());
  auto* ys = out.data_ptr<at::BFloat16>();
  const int64_t full_blocks = N / kTileRows;
  // Blocks split evenly over the threads; under ~16 blocks (256 rows) a hand-off costs more than it saves.
  parallel_rows(full_blocks, 16,
                [&](int64_t begin, int64_t end) { tile_blocks(w, pairs.data(), M, K, N, ys, begin, end); });
  if (const int64_t tail = N % kTileRows) {
    // The last rows, zero-padded to a block (a tile load must not read past W), into a block of their own.
    std::vector<uint16_t> padded(static_cast<size_t>(kTileRows * K), 0);
    std::memcpy(padded.data(), w + full_blocks * kTileRows * K, static_cast<size_t>(tail * K) * 2);
    auto block = torch::empty({M, kTileRows}, rows.options());
    tile_blocks(padded.data(), pairs.data(), M, K, kTileRows, block.data_ptr<at::BFloat16>(), 0, 1);
    out.narrow(1, full_blocks * kTileRows, tail).copy_(block.narrow(1, 0, tail));
  }
#endif
  auto sizes = x.sizes().vec();
  sizes.back() = N;
  return out.view(sizes);
}

}  // namespace gemma
