// Parity of the vision side with ../shared/reference/tiny-vision (google/gemma_pytorch in float32):
// SigLIP embeddings and layers, the projector's pool, norm and projection, then the decoder over a
// prompt whose soft tokens carry the image features (bidirectional within the image block).
#include "model_fixtures.h"  // first: see the note there

#include "model/generation.h"
#include "model/siglip.h"
#include "model/weight_layout.h"

using namespace gemma;
using namespace gemma::test;

namespace {

constexpr double kTolerance = 1e-4;
constexpr double kLogitTolerance = 2e-4;

std::filesystem::path tiny_vision_dir() { return reference_dir() / "tiny-vision"; }
std::filesystem::path expected(const std::string& name) { return tiny_vision_dir() / "expected" / name; }

const ModelConfig& vision_config() {
  static ModelConfig config = load_config(tiny_vision_dir() / "config.json");
  return config;
}

const VisionTower& tower() {
  static auto loaded = VisionTower::load(vision_config(), Checkpoint::open(tiny_vision_dir()), Placement{});
  return *loaded;
}

const Gemma3TextModel& decoder() {
  static auto loaded = Gemma3TextModel::load(vision_config(), Checkpoint::open(tiny_vision_dir()), Placement{});
  return *loaded;
}

torch::Tensor reference_features() {
  VisionTrace trace;
  return tower().image_features(npy_tensor(expected("pixel_values.npy")), &trace);
}

}  // namespace

TEST_CASE("tiny-vision config: the tower and the projector grid", "[vision]") {
  const auto& config = vision_config();
  REQUIRE(config.multimodal);
  CHECK(config.vision.image_size == 56);
  CHECK(config.vision.patches_per_side() == 4);
  CHECK(config.vision.head_dim() == 16);
  CHECK(config.mm_tokens_per_side() == 2);
  auto checkpoint = Checkpoint::open(tiny_vision_dir());
  CHECK_NOTHROW(check_vision_tensors(config, checkpoint));
  CHECK(expected_vision_tensors(config, NamingScheme::MultimodalNew).size() == 3 + 16 * 2 + 2 + 2);
  CHECK(expected_vision_tensors(config, NamingScheme::MultimodalLegacy).front().name ==
        "vision_tower.vision_model.embeddings.patch_embedding.weight");
}

TEST_CASE("SigLIP and the projector equal the reference at every step", "[vision][parity]") {
  VisionTrace trace;
  auto features = tower().image_features(npy_tensor(expected("pixel_values.npy")), &trace);
  CHECK(max_abs_diff(trace.embeddings, npy_tensor(expected("vision.embeddings.npy"))) < kTolerance);
  auto hidden = npy_tensor(expected("vision.hidden_states.npy"));  // [L+1, N, P, D]
  REQUIRE(static_cast<int64_t>(trace.hidden_states.size()) == hidden.size(0));
  for (size_t l = 0; l < trace.hidden_states.size(); ++l) {
    INFO("encoder stream " << l);
    CHECK(max_abs_diff(trace.hidden_states[l], hidden[l]) < kTolerance);
  }
  CHECK(max_abs_diff(trace.last_hidden_state, npy_tensor(expected("vision.last_hidden_state.npy"))) < kTolerance);
  CHECK(max_abs_diff(trace.pooled, npy_tensor(expected("projector.pooled.npy"))) < kTolerance);
  CHECK(max_abs_diff(trace.normed, npy_tensor(expected("projector.normed.npy"))) < kTolerance);
  CHECK(max_abs_diff(features, npy_tensor(expected("projector.image_features.npy"))) < kTolerance);
}

TEST_CASE("a prompt with an image: logits and hidden states equal the reference", "[vision][parity]") {
  auto manifest = read_json(expected("manifest.json"));
  const auto& sequence = manifest["sequences"][0];
  const auto ids = sequence["ids"].get<std::vector<int>>();
  const auto& config = vision_config();
  auto batch = make_batch({ids}, Padding::Right, 0, torch::kCPU);
  auto features = reference_features();
  batch.image_embeddings = features.reshape({-1, features.size(2)});
  batch.image_token_id = config.image_token_index;
  KVCache cache = decoder().new_cache(1, static_cast<int64_t>(ids.size()));
  std::vector<torch::Tensor> layers;
  auto hidden = decoder().forward(batch, cache, &layers);
  auto logits = decoder().logits(hidden)[0];

  auto reference_hidden = npy_tensor(expected("prompt.hidden_states.npy"));
  REQUIRE(static_cast<int64_t>(layers.size()) == reference_hidden.size(0));
  for (size_t l = 0; l < layers.size(); ++l) {
    INFO("residual stream " << l);
    CHECK(max_abs_diff(layers[l][0], reference_hidden[l]) < kTolerance);
  }
  CHECK(max_abs_diff(hidden[0], npy_tensor(expected("prompt.final_norm.npy"))) < kTolerance);
  auto positions = sequence["last_logits_positions"].get<std::vector<int64_t>>();
  auto last = npy_tensor(expected("prompt.last_logits.npy"));
  for (size_t i = 0; i < positions.size(); ++i) CHECK(max_abs_diff(logits[positions[i]], last[i]) < kLogitTolerance);
  auto probe_ids = torch::tensor(manifest["probe_ids"].get<std::vector<int64_t>>());
  CHECK(max_abs_diff(logits.index_select(1, probe_ids), npy_tensor(expected("prompt.probe_logits.npy"))) <
        kLogitTolerance);
  auto log_probs = torch::log_softmax(logits.to(torch::kFloat64), 1);
  const int64_t T = static_cast<int64_t>(ids.size());
  auto targets = torch::tensor(std::vector<int64_t>(ids.begin() + 1, ids.end())).unsqueeze(1);
  auto target_lp = log_probs.narrow(0, 0, T - 1).gather(1, targets).squeeze(1);
  CHECK(max_abs_diff(target_lp, npy_tensor(expected("prompt.target_logprobs.npy"))) < kLogitTolerance);

  SECTION("the soft tokens see each other both ways; without that, the numbers move") {
    // Only the image tokens: a causal-only mask must change their hidden states (the test has teeth).
    auto causal_batch = make_batch({ids}, Padding::Right, 0, torch::kCPU);
    causal_batch.image_embeddings = batch.image_embeddings;
    causal_batch.image_token_id = config.image_token_index;
    KVCache first = decoder().new_cache(1, T);
    // Feeding the image block one token at a time keeps each forward causal across the block.
    const int64_t split = 13;  // inside the 4 soft tokens at 12..15
    auto head = std::vector<int>(ids.begin(), ids.begin() + split),
         tail = std::vector<int>(ids.begin() + split, ids.end());
    auto a = make_batch({head}, Padding::Right, 0, torch::kCPU);
    a.image_embeddings = batch.image_embeddings.narrow(0, 0, 1);
    a.image_token_id = config.image_token_index;
    decoder().forward(a, first);
    auto b = make_batch({tail}, Padding::Right, 0, torch::kCPU);
    b.positions = b.positions + split;
    b.image_embeddings = batch.image_embeddings.narrow(0, 1, 3);
    b.image_token_id = config.image_token_index;
    auto split_logits = decoder().logits(decoder().forward(b, first))[0];
    CHECK(max_abs_diff(split_logits[-1], logits[-1]) > 1e-3);
  }
}

TEST_CASE("greedy decoding after an image equals the reference", "[vision][parity][generation]") {
  auto manifest = read_json(expected("manifest.json"));
  const auto& sequence = manifest["sequences"][0];
  auto expected_tokens = sequence["greedy"]["new_tokens"].get<std::vector<int>>();
  auto features = reference_features();
  GreedyOptions options;
  options.max_new_tokens = static_cast<int>(expected_tokens.size());
  auto result = greedy_generate(decoder(), {sequence["ids"].get<std::vector<int>>()}, options,
                                features.reshape({-1, features.size(2)}), vision_config().image_token_index);
  CHECK(result.front().tokens == expected_tokens);
}

TEST_CASE("a vision checkpoint that disagrees with vision_config is refused, naming the tensor", "[vision][errors]") {
  auto config = vision_config();
  config.vision.intermediate_size = 48;
  auto checkpoint = Checkpoint::open(tiny_vision_dir());
  REQUIRE_THROWS_WITH(check_vision_tensors(config, checkpoint),
                      Catch::Contains("encoder.layers.0.mlp.fc1.weight") && Catch::Contains("[48, 32]"));
  auto mismatched = vision_config();
  auto features = reference_features();
  auto ids = read_json(expected("manifest.json"))["sequences"][0]["ids"].get<std::vector<int>>();
  auto batch = make_batch({ids}, Padding::Right, 0, torch::kCPU);
  batch.image_embeddings = features.reshape({-1, features.size(2)}).narrow(0, 0, 3);  // one soft token short
  batch.image_token_id = mismatched.image_token_index;
  KVCache cache = decoder().new_cache(1, static_cast<int64_t>(ids.size()));
  REQUIRE_THROWS_WITH(decoder().forward(batch, cache),
                      Catch::Contains("4 image soft tokens") && Catch::Contains("3 embeddings"));
}
