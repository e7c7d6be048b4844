#include "model/tiny_model.h"

#include <sys/wait.h>
#include <unistd.h>
#include <cmath>
#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "model/safetensors.h"
#include "model/tokenizer.h"

namespace gemma {
namespace fs = std::filesystem;
namespace {

// The shapes of the tiny model: Gemma 3's structure (5 sliding : 1 global layers, GQA, q/k norms,
// linear RoPE scaling on global layers like 4B+) at a size that runs in milliseconds.
constexpr int kHidden = 64, kIntermediate = 256, kLayers = 7, kHeads = 4, kKvHeads = 2, kHeadDim = 32;
constexpr int kSlidingWindow = 128;

// A small portable normal generator (splitmix64 + Box-Muller): std::normal_distribution is not
// specified bit-for-bit, and the tiny model must be identical on every machine.
class NormalSource {
 public:
  explicit NormalSource(uint64_t seed) : state_(seed) {}
  double next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = (static_cast<double>(next_u64() >> 11) + 0.5) / 9007199254740992.0;
    double u2 = static_cast<double>(next_u64() >> 11) / 9007199254740992.0;
    double r = std::sqrt(-2.0 * std::log(u1)), theta = 2.0 * M_PI * u2;
    spare_ = r * std::sin(theta);
    has_spare_ = true;
    return r * std::cos(theta);
  }

 private:
  uint64_t next_u64() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t state_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

TensorToWrite random_bf16(NormalSource& normal, std::string name, std::vector<int64_t> shape, double stddev) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  std::string bytes(static_cast<size_t>(n) * 2, '\0');
  for (int64_t i = 0; i < n; ++i) {
    uint16_t bits = float_to_bf16_bits(static_cast<float>(normal.next() * stddev));
    std::memcpy(&bytes[static_cast<size_t>(i) * 2], &bits, 2);
  }
  return {std::move(name), DType::Bf16, std::move(shape), std::move(bytes)};
}

void run_spm_train(const TinyModelRecipe& recipe, const fs::path& model_prefix) {
  std::vector<std::string> args = {
      recipe.spm_train,
      "--input=" + recipe.corpus.string(),
      "--model_prefix=" + model_prefix.string(),
      "--vocab_size=" + std::to_string(recipe.tokenizer_vocab),
      "--model_type=bpe",
      "--character_coverage=1.0",
      "--byte_fallback=true",
      "--pad_id=0",
      "--eos_id=1",
      "--bos_id=2",
      "--unk_id=3",
      "--pad_piece=<pad>",
      "--eos_piece=<eos>",
      "--bos_piece=<bos>",
      "--unk_piece=<unk>",
      "--user_defined_symbols=<mask>,[multimodal],<start_of_turn>,<end_of_turn>,<start_of_image>,<end_of_image>",
      "--add_dummy_prefix=false",
      "--remove_extra_whitespaces=false",
      "--normalization_rule_name=identity",
      "--split_digits=true",
      "--num_threads=1",
      "--minloglevel=2"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) fail("cannot start {}: {}", recipe.spm_train, std::strerror(errno));
  if (pid == 0) {
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "cannot run %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail("{} failed (exit status {}) training the tiny tokenizer on {}", recipe.spm_train,
         WIFEXITED(status) ? WEXITSTATUS(status) : -1, recipe.corpus.string());
}

nlohmann::ordered_json tiny_config(int vocab_size, int end_of_turn_id) {
  return {{"architectures", {"Gemma3ForCausalLM"}},
          {"model_type", "gemma3_text"},
          {"vocab_size", vocab_size},
          {"hidden_size", kHidden},
          {"intermediate_size", kIntermediate},
          {"num_hidden_layers", kLayers},
          {"num_attention_heads", kHeads},
          {"num_key_value_heads", kKvHeads},
          {"head_dim", kHeadDim},
          {"query_pre_attn_scalar", kHeadDim},
          {"sliding_window", kSlidingWindow},
          {"sliding_window_pattern", 6},
          {"rope_theta", 1000000.0},
          {"rope_local_base_freq", 10000.0},
          {"rope_scaling", {{"rope_type", "linear"}, {"factor", 8.0}}},
          {"rms_norm_eps", 1e-6},
          {"max_position_embeddings", 32768},
          {"hidden_activation", "gelu_pytorch_tanh"},
          {"final_logit_softcapping", nullptr},
          {"attn_logit_softcapping", nullptr},
          {"attention_bias", false},
          {"tie_word_embeddings", true},
          {"bos_token_id", 2},
          {"eos_token_id", {1, end_of_turn_id}},
          {"pad_token_id", 0},
          {"torch_dtype", "bfloat16"},
          {"gemma_eval_note", "built-in tiny random-weight Gemma 3 made by make-tiny-model; scores are chance-level"}};
}

}  // namespace

void make_tiny_model(const TinyModelRecipe& recipe, const fs::path& output_dir) {
  std::error_code ec;
  fs::create_directories(output_dir, ec);
  if (ec) fail("cannot create {}: {}", output_dir.string(), ec.message());
  if (!fs::is_regular_file(recipe.corpus)) fail("tokenizer corpus not found: {}", recipe.corpus.string());
  run_spm_train(recipe, output_dir / "tokenizer");
  fs::remove(output_dir / "tokenizer.vocab", ec);

  auto tokenizer = load_sentencepiece_tokenizer(output_dir / "tokenizer.model");
  const int vocab = tokenizer->vocab_size();
  const int end_of_turn = tokenizer->special().end_of_turn;
  if (end_of_turn < 0) fail("the tiny tokenizer has no <end_of_turn> piece");
  write_file_atomic(output_dir / "config.json", tiny_config(vocab, end_of_turn).dump(2) + "\n");

  NormalSource normal(recipe.seed);
  const int64_t H = kHidden, I = kIntermediate, hd = kHeadDim;
  std::vector<TensorToWrite> tensors;
  tensors.push_back(random_bf16(normal, "model.embed_tokens.weight", {vocab, H}, 0.25));
  for (int i = 0; i < kLayers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    tensors.push_back(random_bf16(normal, p + "input_layernorm.weight", {H}, 0.3));
    tensors.push_back(random_bf16(normal, p + "self_attn.q_proj.weight", {kHeads * hd, H}, 0.15));
    tensors.push_back(random_bf16(normal, p + "self_attn.k_proj.weight", {kKvHeads * hd, H}, 0.15));
    tensors.push_back(random_bf16(normal, p + "self_attn.v_proj.weight", {kKvHeads * hd, H}, 0.15));
    tensors.push_back(random_bf16(normal, p + "self_attn.o_proj.weight", {H, kHeads * hd}, 0.1));
    tensors.push_back(random_bf16(normal, p + "self_attn.q_norm.weight", {hd}, 0.3));
    tensors.push_back(random_bf16(normal, p + "self_attn.k_norm.weight", {hd}, 0.3));
    tensors.push_back(random_bf16(normal, p + "post_attention_layernorm.weight", {H}, 0.3));
    tensors.push_back(random_bf16(normal, p + "pre_feedforward_layernorm.weight", {H}, 0.3));
    tensors.push_back(random_bf16(normal, p + "mlp.gate_proj.weight", {I, H}, 0.15));
    tensors.push_back(random_bf16(normal, p + "mlp.up_proj.weight", {I, H}, 0.15));
    tensors.push_back(random_bf16(normal, p + "mlp.down_proj.weight", {H, I}, 0.08));
    tensors.push_back(random_bf16(normal, p + "post_feedforward_layernorm.weight", {H}, 0.3));
  }
  tensors.push_back(random_bf16(normal, "model.norm.weight", {H}, 0.3));
  write_safetensors(
      output_dir / "model.safetensors", tensors,
      {{"format", "pt"}, {"gemma_eval", "tiny random-weight Gemma 3, seed " + std::to_string(recipe.seed)}});
}

}  // namespace gemma
