// Parity of the decoder with ../shared/reference/tiny-text: logits, log-probs, hidden states,
// continuation log-likelihoods and greedy generations computed by google/gemma_pytorch in float32.
#include "model_fixtures.h"  // first: see the note there

#include "model/generation.h"

using namespace gemma;
using namespace gemma::test;

namespace {

constexpr double kLogitTolerance = 2e-4;  // the bound; a GELU-variant bug moves logits 6e-4
constexpr double kHiddenTolerance = 1e-4;

std::vector<int> ids_of(const nlohmann::json& sequence) { return sequence["ids"].get<std::vector<int>>(); }

}  // namespace

TEST_CASE("tiny-text logits, log-probs and hidden states equal the reference", "[parity]") {
  const auto& model = tiny_text_model();
  auto manifest = read_json(tiny_text_dir() / "expected" / "manifest.json");
  const auto expected = tiny_text_dir() / "expected";
  std::vector<int64_t> probe_ids = manifest["probe_ids"].get<std::vector<int64_t>>();

  for (const auto& sequence : manifest["sequences"]) {
    const std::string name = sequence["name"];
    SECTION(name) {
      auto ids = ids_of(sequence);
      std::vector<torch::Tensor> layers;
      auto logits = full_logits(model, ids, &layers);  // [T, V]
      const int64_t T = static_cast<int64_t>(ids.size());
      REQUIRE(logits.size(0) == T);
      REQUIRE(logits.size(1) == sequence["vocab"].get<int64_t>());

      auto positions = sequence["last_logits_positions"].get<std::vector<int64_t>>();
      auto last = npy_tensor(expected / (name + ".last_logits.npy"));
      for (size_t i = 0; i < positions.size(); ++i)
        CHECK(max_abs_diff(logits[positions[i]], last[i]) < kLogitTolerance);

      auto top5_ids = npy_tensor(expected / (name + ".top5_ids.npy"));
      auto top5_logits = npy_tensor(expected / (name + ".top5_logits.npy"));
      CHECK(max_abs_diff(logits.gather(1, top5_ids), top5_logits) < kLogitTolerance);

      auto probes = npy_tensor(expected / (name + ".probe_logits.npy"));
      CHECK(max_abs_diff(logits.index_select(1, torch::tensor(probe_ids)), probes) < kLogitTolerance);

      auto lse = torch::logsumexp(logits.to(torch::kFloat64), 1);
      CHECK(max_abs_diff(lse, npy_tensor(expected / (name + ".logsumexp.npy"))) < kLogitTolerance);

      auto log_probs = torch::log_softmax(logits.to(torch::kFloat64), 1);
      auto targets = torch::tensor(std::vector<int64_t>(ids.begin() + 1, ids.end())).unsqueeze(1);
      auto target_lp = log_probs.narrow(0, 0, T - 1).gather(1, targets).squeeze(1);
      CHECK(max_abs_diff(target_lp, npy_tensor(expected / (name + ".target_logprobs.npy"))) < kLogitTolerance);
      CHECK(target_lp.sum().item<double>() == Approx(sequence["sum_target_logprob"].get<double>()).margin(1e-3));

      auto hidden = npy_tensor(expected / (name + ".hidden_states.npy"));  // [L+1, T, H]
      REQUIRE(static_cast<int64_t>(layers.size()) == hidden.size(0));
      for (size_t l = 0; l < layers.size(); ++l) {
        INFO("residual stream " << l);
        CHECK(max_abs_diff(layers[l][0], hidden[l]) < kHiddenTolerance);
      }
    }
  }
}

TEST_CASE("tiny-text greedy generations equal the reference", "[parity][generation]") {
  const auto& model = tiny_text_model();
  auto manifest = read_json(tiny_text_dir() / "expected" / "manifest.json");
  for (const auto& sequence : manifest["sequences"]) {
    INFO(sequence["name"].get<std::string>());
    auto expected = sequence["greedy"]["new_tokens"].get<std::vector<int>>();
    GreedyOptions options;
    options.max_new_tokens = static_cast<int>(expected.size());  // no stop ids: the reference ignores EOS
    auto result = greedy_generate(model, {ids_of(sequence)}, options).front();
    CHECK(result.tokens == expected);
    CHECK(result.finish_reason == "length");
  }
}

TEST_CASE("tiny-text continuation log-likelihoods equal the reference", "[parity]") {
  const auto& model = tiny_text_model();
  auto manifest = read_json(tiny_text_dir() / "expected" / "manifest.json");
  for (const auto& pair : manifest["continuation_pairs"]) {
    auto context = pair["context_ids"].get<std::vector<int>>();
    auto continuation = pair["continuation_ids"].get<std::vector<int>>();
    std::vector<int> ids = context;
    ids.insert(ids.end(), continuation.begin(), continuation.end());
    auto log_probs = torch::log_softmax(full_logits(model, ids).to(torch::kFloat64), 1);
    double sum = 0;
    bool greedy = true;
    auto expected_tokens = pair["token_logprobs"].get<std::vector<double>>();
    for (size_t j = 0; j < continuation.size(); ++j) {
      auto row = log_probs[static_cast<int64_t>(context.size() + j - 1)];
      double lp = row[continuation[j]].item<double>();
      CHECK(lp == Approx(expected_tokens[j]).margin(kLogitTolerance));
      greedy = greedy && row.argmax().item<int64_t>() == continuation[j];
      sum += lp;
    }
    CHECK(sum == Approx(pair["sum_logprob"].get<double>()).margin(1e-3));
    CHECK(greedy == pair["is_greedy"].get<bool>());
  }
}
