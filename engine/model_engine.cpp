#include "engine/model_engine.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <new>
#include <numeric>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/sha256.h"
#include "engine/prompt_images.h"
#include "evals/perplexity.h"
#include "evals/weights_fingerprint.h"
#include "model/gemma3.h"
#include "model/generation.h"
#include "model/model_files.h"
#include "model/prefix_cache.h"
#include "model/siglip.h"
#include "model/tokenizer.h"

namespace gemma::evals {

// One loglikelihood request (or one rolling window) after tokenization (and left truncation, if it did
// not fit).
struct ScoredPair {
  std::vector<int> context;  // what the model sees before the continuation
  std::vector<int> continuation;
  bool truncated = false;
};

namespace {

// Python's str.isspace for the characters a prompt ends with (ASCII whitespace and the \x1c-\x1f
// separators); lm-eval moves exactly these into the continuation.
bool is_trailing_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f); }

// Requests with identical context tokens: the context runs once for all of them.
struct ContextGroup {
  std::vector<int> context;
  std::vector<size_t> members;  // request indices
  size_t longest_continuation = 0;
  size_t length() const { return context.size() + longest_continuation; }
};

ScoredPair fit_to_length(EncodedPair pair, int max_length) {
  ScoredPair fitted{std::move(pair.context), std::move(pair.continuation), false};
  const size_t limit = static_cast<size_t>(max_length) + 1;  // lm-eval: (ctx+cont)[-(max_length+1):][:-1]
  const size_t total = fitted.context.size() + fitted.continuation.size();
  if (total <= limit) return fitted;
  if (fitted.continuation.size() >= limit)
    fail("a continuation of {} tokens does not fit the model's {} positions", fitted.continuation.size(), max_length);
  fitted.context.erase(fitted.context.begin(), fitted.context.begin() + static_cast<std::ptrdiff_t>(total - limit));
  fitted.truncated = true;
  return fitted;
}

std::vector<ContextGroup> group_by_context(const std::vector<ScoredPair>& pairs, bool share) {
  std::vector<ContextGroup> groups;
  std::map<std::vector<int>, size_t> index;
  for (size_t i = 0; i < pairs.size(); ++i) {
    size_t g = groups.size();
    if (share) {
      auto [it, inserted] = index.emplace(pairs[i].context, groups.size());
      g = it->second;
      if (inserted) groups.push_back({pairs[i].context, {}, 0});
    } else {
      groups.push_back({pairs[i].context, {}, 0});
    }
    groups[g].members.push_back(i);
    groups[g].longest_continuation = std::max(groups[g].longest_continuation, pairs[i].continuation.size());
  }
  if (share) {
    // By tokens: contexts that start alike run one after another, so the prefix cache holds only what
    // the next few requests need.
    std::sort(groups.begin(), groups.end(),
              [](const ContextGroup& a, const ContextGroup& b) { return a.context < b.context; });
  } else {
    // Longest first (lm-eval's order): the first batch shows the worst-case memory at once.
    std::stable_sort(groups.begin(), groups.end(),
                     [](const ContextGroup& a, const ContextGroup& b) { return a.length() > b.length(); });
  }
  return groups;
}

// Tokens two sequences start with in common.
int64_t common_prefix(const std::vector<int>& a, const std::vector<int>& b) {
  auto [ia, ib] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  return static_cast<int64_t>(ia - a.begin());
}

// For sequences in the order they run: how many leading tokens of each a later one starts with too
// (in sorted order, the next one shares the most).
std::vector<int64_t> reused_prefixes(const std::vector<const std::vector<int>*>& in_order) {
  std::vector<int64_t> reuse(in_order.size(), 0);
  for (size_t i = 0; i + 1 < in_order.size(); ++i) reuse[i] = common_prefix(*in_order[i], *in_order[i + 1]);
  return reuse;
}

// Continuation positions whose logits are computed at once.
constexpr int64_t kLogitRowsPerSlice = 512;

// Adds log-probabilities of `targets` under `log_probs` rows [n, V] to `result`.
void accumulate(const torch::Tensor& log_probs, const std::vector<int>& targets, size_t first_target,
                LoglikelihoodResult& result) {
  const int64_t n = log_probs.size(0);
  auto ids = torch::tensor(std::vector<int64_t>(targets.begin() + static_cast<std::ptrdiff_t>(first_target),
                                                targets.begin() + static_cast<std::ptrdiff_t>(first_target + n)))
                 .to(log_probs.device());
  auto picked = log_probs.gather(1, ids.unsqueeze(1)).squeeze(1).to(torch::kFloat64).cpu();
  auto greedy = log_probs.argmax(1).eq(ids).all().item<bool>();
  result.logprob += picked.sum().item<double>();
  result.is_greedy = result.is_greedy && greedy;
}

// Whether the decoded tokens already contain one of the stop strings (generation ends there).
// Called after every new token, so a new occurrence ends in the last token: decoding a window of the
// last (longest stop string + 8) tokens finds it (every token but a special one decodes to at least
// one byte) without decoding the whole text at every step, which grew quadratically. Every 64th
// token the whole text is checked, in case special tokens made the window too short; the text is
// cut at the first stop string in the end either way (cut_at_stop_strings).
bool hits_stop_string(const Tokenizer& tokenizer, const std::vector<int>& tokens,
                      const std::vector<std::string>& until) {
  if (until.empty()) return false;
  size_t longest = 0;
  for (const auto& stop : until) longest = std::max(longest, stop.size());
  const size_t window = longest + 8;
  const bool whole = tokens.size() <= window || tokens.size() % 64 == 0;
  const std::string text =
      whole ? tokenizer.decode(tokens)
            : tokenizer.decode(std::vector<int>(tokens.end() - static_cast<std::ptrdiff_t>(window), tokens.end()));
  return std::any_of(until.begin(), until.end(),
                     [&](const std::string& s) { return !s.empty() && text.find(s) != std::string::npos; });
}

std::string cut_at_stop_strings(std::string text, const std::vector<std::string>& until) {
  for (const auto& stop : until) {
    if (stop.empty()) continue;
    auto at = text.find(stop);
    if (at != std::string::npos) text.resize(at);
  }
  return text;
}

bool all_finite(const torch::Tensor& t) { return torch::isfinite(t).all().item<bool>(); }

// Where a request's numbers first go non-finite: `ids` (one row, with its image soft tokens if any)
// run again alone, keeping the residual stream after every layer. Costs one forward pass, paid only
// on the way to an error.
std::string first_non_finite_stage(const Gemma3TextModel& model, const ModelFiles& files, const std::vector<int>& ids,
                                   const torch::Tensor& soft_tokens) {
  try {
    auto batch = make_batch({ids}, Padding::Right, files.config.pad_token_id, model.placement().device);
    if (soft_tokens.defined())
      batch.image_embeddings = soft_tokens, batch.image_token_id = files.config.image_token_index;
    KVCache cache = model.new_cache(1, static_cast<int64_t>(ids.size()));
    std::vector<torch::Tensor> residual;  // [0] the embeddings, [i + 1] after layer i
    auto hidden = model.forward(batch, cache, &residual);
    for (size_t i = 0; i < residual.size(); ++i) {
      if (all_finite(residual[i])) continue;
      if (i == 0)
        return soft_tokens.defined() ? "the input embeddings (embed_tokens or the image soft tokens)"
                                     : "the scaled token embeddings (embed_tokens)";
      return fmt::format("decoder layer {} (layers.{}.*)", i - 1, i - 1);
    }
    if (!all_finite(hidden)) return "the final norm (norm.weight)";
    if (!all_finite(model.logits(hidden))) return "the LM head (embed_tokens)";
    return "no layer when the request runs alone (only inside its batch)";
  } catch (const std::exception& e) {
    return fmt::format("unknown (running the request layer by layer failed: {})", e.what());
  }
}

[[noreturn]] void fail_non_finite(const Gemma3TextModel& model, const ModelFiles& files, size_t request,
                                  const std::vector<int>& ids, const std::string& what,
                                  const torch::Tensor& soft_tokens = {}) {
  throw RequestError(request, fmt::format("{} are not finite (NaN or Inf): the first non-finite output is {}; "
                                          "nothing is scored or cached from it",
                                          what, first_non_finite_stage(model, files, ids, soft_tokens)));
}

// Called inside a catch block around a request's forward passes: a LibTorch error or an allocation
// failure becomes a RequestError for `request` (the caller names its task and doc); our own errors
// and anything else pass through unchanged.
[[noreturn]] void rethrow_forward_failure(size_t request, const std::string& work) {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw RequestError(request, fmt::format("out of memory running {} (std::bad_alloc); lower --max-length or "
                                            "--batch-size",
                                            work));
  } catch (const c10::Error& e) {
    std::string message = e.what_without_backtrace();
    message = message.substr(0, message.find('\n'));
    const bool memory =
        message.find("alloc") != std::string::npos || message.find("out of memory") != std::string::npos;
    if (memory)
      throw RequestError(
          request, fmt::format("out of memory running {} ({}); lower --max-length or --batch-size", work, message));
    throw RequestError(request, fmt::format("the model failed running {}: {}", work, message));
  }
}

template <typename Result, typename Compute>
Result with_request_index(size_t request, Compute compute) {
  try {
    return compute();
  } catch (const RequestError& e) {
    throw RequestError(request, e.what());
  }
}

}  // namespace

EncodedPair encode_pair(const Tokenizer& tokenizer, const std::string& context, const std::string& continuation) {
  size_t cut = context.size();
  while (cut > 0 && is_trailing_space(static_cast<unsigned char>(context[cut - 1]))) --cut;
  std::string head = context.substr(0, cut);
  std::string tail = context.substr(cut) + continuation;
  if (head.empty()) {
    // lm-eval: an empty context scores the continuation after the prefix (BOS) token alone.
    return {{tokenizer.special().bos}, tokenizer.encode(tail)};
  }
  auto whole = tokenizer.encode_with_bos(head + tail);
  auto context_ids = tokenizer.encode_with_bos(head);
  return {context_ids, std::vector<int>(whole.begin() + static_cast<std::ptrdiff_t>(context_ids.size()), whole.end())};
}

ModelEngine::ModelEngine(const Gemma3TextModel& model, const ModelFiles& files, ModelEngineOptions options)
    : model_(model), files_(files), options_(options) {
  if (options_.max_length <= 0) options_.max_length = model_.config().max_position_embeddings;
  if (options_.batch_size <= 0) fail("--batch-size must be positive");
  if (!files_.tokenizer) fail("internal: the model engine needs the model's tokenizer");
  if (options_.prefix_cache_mb < 0) fail("--prefix-cache-mb must be 0 or more");
  if (options_.generation_width < 0) fail("--generation-batch-size must be 0 (chosen from memory) or more");
  if (options_.prefix_sharing && options_.prefix_cache_mb > 0)
    prefix_cache_ = std::make_unique<PrefixCache>(options_.prefix_cache_mb << 20);
}

ModelEngine::~ModelEngine() = default;

PrefilledPrompts ModelEngine::prefill(const std::vector<std::vector<int>>& contexts, const std::vector<int64_t>& reuse,
                                      int64_t extra_capacity) {
  const int64_t rows = static_cast<int64_t>(contexts.size());
  std::vector<int64_t> cached(contexts.size(), 0);
  if (prefix_cache_) {
    // A prefix all rows share but the cache lacks runs once, alone, rather than once per row.
    int64_t shared = static_cast<int64_t>(contexts[0].size()) - 1;
    for (const auto& c : contexts)
      shared = std::min({shared, common_prefix(contexts[0], c), static_cast<int64_t>(c.size()) - 1});
    const int64_t block = prefix_cache_->block_tokens(), shared_blocks = shared / block * block;
    if (rows > 1 && shared_blocks > prefix_cache_->match(contexts[0], shared_blocks)) {
      prefill({std::vector<int>(contexts[0].begin(), contexts[0].begin() + shared_blocks)}, {shared_blocks}, 0);
    }
    for (size_t r = 0; r < contexts.size(); ++r)
      cached[r] = prefix_cache_->match(contexts[r], static_cast<int64_t>(contexts[r].size()) - 1);
  }
  const int64_t cached_length = *std::max_element(cached.begin(), cached.end());
  std::vector<std::vector<int>> tails;
  for (size_t r = 0; r < contexts.size(); ++r) {
    tails.emplace_back(contexts[r].begin() + cached[r], contexts[r].end());
    counters_.forward_tokens += tails.back().size();
    counters_.prefix_cache_tokens += static_cast<size_t>(cached[r]);
  }
  const auto device = model_.placement().device;
  auto batch = make_batch(tails, Padding::Right, files_.config.pad_token_id, device);
  PrefilledPrompts filled{model_.new_cache(rows, cached_length + batch.ids.size(1) + extra_capacity), {}};
  if (cached_length > 0) {
    filled.cache.start_with_prefixes(cached);
    for (size_t r = 0; r < contexts.size(); ++r)
      prefix_cache_->load(contexts[r], cached[r], filled.cache, static_cast<int64_t>(r));
    batch.positions = batch.positions + torch::tensor(cached).to(device).unsqueeze(1);
  }
  auto hidden = model_.forward(batch, filled.cache);
  ++counters_.forward_passes;
  std::vector<int64_t> last;
  for (const auto& t : tails) last.push_back(static_cast<int64_t>(t.size()) - 1);
  auto last_index = torch::tensor(last).to(device).view({rows, 1, 1}).expand({rows, 1, hidden.size(2)});
  filled.last_hidden = hidden.gather(1, last_index).squeeze(1);  // [rows, H]
  if (prefix_cache_)
    for (size_t r = 0; r < contexts.size(); ++r)
      prefix_cache_->store(contexts[r], reuse[r], filled.cache, static_cast<int64_t>(r), cached[r], cached_length);
  return filled;
}

// ---- requests with images: one at a time ----

struct ModelEngine::ImagePrompt {
  std::string text;           // the context with its image blocks expanded
  torch::Tensor soft_tokens;  // [K, H]
};

ModelEngine::ImagePrompt ModelEngine::image_prompt(const std::string& context,
                                                   const std::vector<std::string>& images) const {
  if (!options_.vision || !options_.image_config)
    fail("a request has {} image(s) but {} is a text-only model (images need a Gemma 3 4B, 12B or 27B checkpoint)",
         images.size(), files_.dir.string());
  PromptImages expanded = expand_prompt_images(context, images, *options_.image_config);
  return {expanded.text, soft_token_embeddings(*options_.vision, expanded.pixel_values)};
}

LoglikelihoodResult ModelEngine::score_with_images(const LoglikelihoodRequest& request) {
  ImagePrompt prompt = image_prompt(request.context, request.images);
  EncodedPair pair = encode_pair(*files_.tokenizer, prompt.text, request.continuation);
  std::vector<int> ids = pair.context;
  ids.insert(ids.end(), pair.continuation.begin(), pair.continuation.end());
  if (ids.size() > static_cast<size_t>(options_.max_length) + 1)
    fail("a request with images needs {} tokens, more than the model's {} (image prompts are never cut)", ids.size(),
         options_.max_length);
  auto batch = make_batch({ids}, Padding::Right, files_.config.pad_token_id, model_.placement().device);
  batch.image_embeddings = prompt.soft_tokens;
  batch.image_token_id = files_.config.image_token_index;
  const int64_t n = static_cast<int64_t>(pair.continuation.size());
  const int64_t first = static_cast<int64_t>(pair.context.size()) - 1;  // predicts the first continuation token
  torch::Tensor log_probs;
  try {
    KVCache cache = model_.new_cache(1, static_cast<int64_t>(ids.size()));
    auto hidden = model_.forward(batch, cache)[0];
    log_probs = torch::log_softmax(model_.logits(hidden.narrow(0, first, n)), -1);
  } catch (...) {
    rethrow_forward_failure(0, fmt::format("a request of {} tokens with images", ids.size()));
  }
  ++counters_.forward_passes, counters_.forward_tokens += ids.size();
  if (!all_finite(log_probs)) fail_non_finite(model_, files_, 0, ids, "the continuation's logits", prompt.soft_tokens);
  LoglikelihoodResult result;
  result.is_greedy = true;
  result.context_tokens = static_cast<int>(pair.context.size());
  result.continuation_tokens = static_cast<int>(n);
  accumulate(log_probs, pair.continuation, 0, result);
  return result;
}

GenerationResult ModelEngine::generate_with_images(const GenerationRequest& request) {
  ImagePrompt prompt = image_prompt(request.context, request.images);
  std::vector<int> ids = files_.tokenizer->encode_with_bos(prompt.text);
  if (ids.size() + static_cast<size_t>(request.max_gen_toks) > static_cast<size_t>(options_.max_length))
    fail("a request with images needs {} prompt tokens + {} to generate, more than the model's {}", ids.size(),
         request.max_gen_toks, options_.max_length);
  GreedyOptions options;
  options.max_new_tokens = request.max_gen_toks;
  options.stop_ids = stop_token_ids(files_);
  options.pad_id = files_.config.pad_token_id;
  const auto& tokenizer = *files_.tokenizer;
  options.stop_check = [&](size_t, const std::vector<int>& tokens) {
    return hits_stop_string(tokenizer, tokens, request.until);
  };
  GreedyResult generated;
  try {
    generated = greedy_generate(model_, {ids}, options, prompt.soft_tokens, files_.config.image_token_index).front();
  } catch (const NonFiniteLogits& e) {
    std::vector<int> run = ids;
    run.insert(run.end(), e.generated.begin(), e.generated.end());
    fail_non_finite(model_, files_, 0, run, fmt::format("the logits after {} generated tokens", e.generated.size()),
                    prompt.soft_tokens);
  } catch (...) {
    rethrow_forward_failure(0, fmt::format("a generation from {} prompt tokens with images", ids.size()));
  }
  ++counters_.forward_passes;
  counters_.forward_tokens += ids.size() + generated.tokens.size(),
      counters_.generated_tokens += generated.tokens.size();
  GenerationResult result;
  result.generated_tokens = static_cast<int>(generated.tokens.size());
  result.hit_max_tokens = generated.finish_reason == "length";
  result.text = cut_at_stop_strings(tokenizer.decode(generated.tokens), request.until);
  return result;
}

namespace {
template <typename Request>
bool any_images(const std::vector<Request>& requests) {
  return std::any_of(requests.begin(), requests.end(), [](const Request& r) { return !r.images.empty(); });
}
}  // namespace

std::vector<LoglikelihoodResult> ModelEngine::loglikelihood(const std::vector<LoglikelihoodRequest>& requests,
                                                            EngineProgress* progress) {
  c10::InferenceMode inference;
  if (any_images(requests)) {
    std::vector<LoglikelihoodResult> results;
    for (size_t i = 0; i < requests.size(); ++i) {
      results.push_back(with_request_index<LoglikelihoodResult>(i, [&] {
        return requests[i].images.empty() ? loglikelihood({requests[i]}, nullptr).front()
                                          : score_with_images(requests[i]);
      }));
      if (progress)
        progress->finished(i, results.back()), progress->advance(i + 1, requests.size(), counters_.forward_tokens);
    }
    return results;
  }
  const auto& tokenizer = *files_.tokenizer;
  std::vector<ScoredPair> pairs;
  pairs.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    try {
      pairs.push_back(fit_to_length(encode_pair(tokenizer, r.context, r.continuation), options_.max_length));
    } catch (const Error& e) {
      throw RequestError(i, e.what());  // e.g. a continuation longer than the window: the caller names task and doc
    }
    if (pairs.back().continuation.empty())
      fail("a loglikelihood request has an empty continuation (context: \"{}\")", r.context.substr(0, 80));
  }
  size_t done = 0;
  return score_pairs(pairs, options_.prefix_sharing,
                     [&](const std::vector<size_t>& finished, const std::vector<LoglikelihoodResult>& results) {
                       done += finished.size();
                       if (!progress) return;
                       for (size_t m : finished) progress->finished(m, results[m]);
                       progress->advance(done, requests.size(), counters_.forward_tokens);
                     });
}

std::vector<LoglikelihoodResult> ModelEngine::loglikelihood_rolling(
    const std::vector<RollingLoglikelihoodRequest>& requests, EngineProgress* progress) {
  c10::InferenceMode inference;
  const auto& tokenizer = *files_.tokenizer;
  const int prefix_token = tokenizer.special().bos;
  if (prefix_token < 0) fail("rolling log-likelihoods need a BOS token as the prefix, and the tokenizer has none");
  // Every request's windows, flattened: they run in batches like loglikelihood requests (each window's
  // context is one token, so nothing is shared between them).
  std::vector<ScoredPair> windows;
  std::vector<size_t> window_request;
  std::vector<size_t> windows_left(requests.size(), 0);
  std::vector<LoglikelihoodResult> results(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const std::vector<int> tokens = tokenizer.encode(requests[i].text);
    results[i].is_greedy = true;
    results[i].context_tokens = 1;
    results[i].continuation_tokens = static_cast<int>(tokens.size());
    for (TokenWindow& window : rolling_token_windows(tokens, prefix_token, options_.max_length)) {
      windows.push_back({std::move(window.context), std::move(window.continuation), false});
      window_request.push_back(i);
      ++windows_left[i];
    }
  }
  size_t done = 0;
  auto report = [&](size_t request) {
    ++done;
    if (progress)
      progress->finished(request, results[request]), progress->advance(done, requests.size(), counters_.forward_tokens);
  };
  for (size_t i = 0; i < requests.size(); ++i)
    if (windows_left[i] == 0) report(i);  // an empty text: nothing to score, log-likelihood 0 (lm-eval's sum([]))
  try {
    score_pairs(windows, false,
                [&](const std::vector<size_t>& finished, const std::vector<LoglikelihoodResult>& scored) {
                  for (size_t w : finished) {
                    const size_t request = window_request[w];
                    results[request].logprob += scored[w].logprob;
                    results[request].is_greedy = results[request].is_greedy && scored[w].is_greedy;
                    if (--windows_left[request] == 0) report(request);
                  }
                });
  } catch (const RequestError& e) {  // a window's index: name its request
    if (e.request_index >= window_request.size()) throw;
    throw RequestError(window_request[e.request_index], e.what());
  }
  return results;
}

std::vector<LoglikelihoodResult> ModelEngine::score_pairs(const std::vector<ScoredPair>& pairs, bool share,
                                                          const PairsScored& scored) {
  const auto device = model_.placement().device;
  std::vector<LoglikelihoodResult> results(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    results[i].is_greedy = true;
    results[i].context_tokens = static_cast<int>(pairs[i].context.size());
    results[i].continuation_tokens = static_cast<int>(pairs[i].continuation.size());
    results[i].truncated = pairs[i].truncated;
    counters_.truncated += pairs[i].truncated;
  }

  auto groups = group_by_context(pairs, share);
  std::vector<const std::vector<int>*> in_order;
  for (const auto& g : groups) in_order.push_back(&g.context);
  // Without sharing nothing is kept for later requests (with prefix sharing off there is no cache at all).
  const std::vector<int64_t> reuse = share ? reused_prefixes(in_order) : std::vector<int64_t>(groups.size(), 0);
  for (size_t start = 0; start < groups.size(); start += static_cast<size_t>(options_.batch_size)) {
    const size_t end = std::min(groups.size(), start + static_cast<size_t>(options_.batch_size));
    std::vector<std::vector<int>> contexts;
    for (size_t g = start; g < end; ++g) contexts.push_back(groups[g].context);
    try {
      // 1. Every context once (after its cached prefix); its last position predicts each member's
      //    first continuation token.
      auto [cache, last_hidden] = prefill(contexts,
                                          std::vector<int64_t>(reuse.begin() + static_cast<std::ptrdiff_t>(start),
                                                               reuse.begin() + static_cast<std::ptrdiff_t>(end)),
                                          8);
      const int64_t rows = static_cast<int64_t>(contexts.size());
      auto last_log_probs = torch::log_softmax(model_.logits(last_hidden), -1);  // [rows, V]
      // Non-finite logits anywhere in a row make its log-softmax non-finite: one check per row, before
      // anything of the batch is reported (and so cached).
      auto finite_rows = torch::isfinite(last_log_probs).all(1).to(torch::kCPU);
      for (int64_t row = 0; row < rows; ++row)
        if (!finite_rows[row].item<bool>())
          fail_non_finite(model_, files_, groups[start + static_cast<size_t>(row)].members.front(),
                          contexts[static_cast<size_t>(row)], "the logits after the context");

      // 2. Members with longer continuations continue from a fork of their context's cache.
      std::vector<int64_t> fork_rows;
      std::vector<size_t> fork_members;
      for (size_t g = start; g < end; ++g) {
        const int64_t row = static_cast<int64_t>(g - start);
        for (size_t m : groups[g].members) {
          accumulate(last_log_probs.narrow(0, row, 1), pairs[m].continuation, 0, results[m]);
          if (pairs[m].continuation.size() > 1) fork_rows.push_back(row), fork_members.push_back(m);
        }
      }
      if (!fork_rows.empty()) {
        KVCache forked = cache.select_rows(torch::tensor(fork_rows));
        std::vector<std::vector<int>> inputs;
        for (size_t m : fork_members)
          inputs.emplace_back(pairs[m].continuation.begin(), pairs[m].continuation.end() - 1);
        auto next = make_batch(inputs, Padding::Right, files_.config.pad_token_id, device);
        std::vector<int64_t> context_lengths;
        for (int64_t r : fork_rows)
          context_lengths.push_back(static_cast<int64_t>(contexts[static_cast<size_t>(r)].size()));
        next.positions = next.positions + torch::tensor(context_lengths).to(device).unsqueeze(1);
        auto continued = model_.forward(next, forked);
        ++counters_.forward_passes;
        for (size_t k = 0; k < fork_members.size(); ++k) {
          const auto& continuation = pairs[fork_members[k]].continuation;
          const int64_t n = static_cast<int64_t>(continuation.size()) - 1;
          counters_.forward_tokens += static_cast<size_t>(n);
          // A slice of positions at a time: the logits of a whole rolling window ([tokens, vocabulary],
          // 262k columns for Gemma 3) would take gigabytes. Row-wise, so the numbers are the same.
          for (int64_t from = 0; from < n; from += kLogitRowsPerSlice) {
            const int64_t rows = std::min(kLogitRowsPerSlice, n - from);
            auto log_probs =
                torch::log_softmax(model_.logits(continued[static_cast<int64_t>(k)].narrow(0, from, rows)), -1);
            if (!all_finite(log_probs)) {
              std::vector<int> ids = contexts[static_cast<size_t>(fork_rows[k])];
              ids.insert(ids.end(), continuation.begin(), continuation.end() - 1);
              fail_non_finite(model_, files_, fork_members[k], ids, "the logits inside the continuation");
            }
            accumulate(log_probs, continuation, 1 + static_cast<size_t>(from), results[fork_members[k]]);
          }
        }
      }
    } catch (...) {
      rethrow_forward_failure(
          groups[start].members.front(),
          fmt::format("a batch of {} context(s), the longest {} tokens", contexts.size(), groups[start].length()));
    }
    std::vector<size_t> finished;
    for (size_t g = start; g < end; ++g)
      finished.insert(finished.end(), groups[g].members.begin(), groups[g].members.end());
    scored(finished, results);
  }
  return results;
}

std::vector<GenerationResult> ModelEngine::generate_until(const std::vector<GenerationRequest>& requests,
                                                          EngineProgress* progress) {
  if (any_images(requests)) {
    c10::InferenceMode inference;
    std::vector<GenerationResult> results;
    for (size_t i = 0; i < requests.size(); ++i) {
      results.push_back(with_request_index<GenerationResult>(i, [&] {
        return requests[i].images.empty() ? generate_until({requests[i]}, nullptr).front()
                                          : generate_with_images(requests[i]);
      }));
      if (progress)
        progress->finished(i, results.back()), progress->advance(i + 1, requests.size(), counters_.forward_tokens);
    }
    return results;
  }
  const auto& tokenizer = *files_.tokenizer;
  std::vector<GenerationResult> results(requests.size());
  std::vector<std::vector<int>> prompts(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    if (r.max_gen_toks <= 0 || r.max_gen_toks >= options_.max_length)
      fail("max_gen_toks {} must be between 1 and the model's {} positions", r.max_gen_toks, options_.max_length);
    prompts[i] = tokenizer.encode_with_bos(r.context);
    const size_t room = static_cast<size_t>(options_.max_length - r.max_gen_toks);  // lm-eval's left truncation
    if (prompts[i].size() > room) {
      prompts[i].erase(prompts[i].begin(), prompts[i].end() - static_cast<std::ptrdiff_t>(room));
      results[i].truncated = true;
      ++counters_.truncated;
    }
  }
  // In token order, so prompts that start alike (the same few-shot block) follow each other and
  // share their prefix through the cache; without prefix sharing, longest first as lm-eval does.
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  if (prefix_cache_)
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return prompts[a] < prompts[b]; });
  else
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return prompts[a].size() > prompts[b].size(); });
  std::vector<const std::vector<int>*> in_order;
  std::vector<int64_t> lengths;
  std::vector<GenerationLimits> limits;
  size_t longest = 0;
  for (size_t i : order) {
    in_order.push_back(&prompts[i]);
    lengths.push_back(static_cast<int64_t>(prompts[i].size()));
    longest = std::max(longest, prompts[i].size() + static_cast<size_t>(requests[i].max_gen_toks));
    GenerationLimits limit;
    limit.max_new_tokens = requests[i].max_gen_toks;
    limit.stop_check = [&tokenizer, &until = requests[i].until](const std::vector<int>& tokens) {
      return hits_stop_string(tokenizer, tokens, until);
    };
    limits.push_back(std::move(limit));
  }
  const std::vector<int64_t> reuse = reused_prefixes(in_order);
  const int width = generation_width(requests.size(), longest);
  counters_.generation_width = std::max(counters_.generation_width, width);
  auto prefill_prompts = [&](const std::vector<size_t>& which) {  // indices into `order`
    std::vector<std::vector<int>> batch;
    std::vector<int64_t> batch_reuse;
    size_t most_new_tokens = 0;
    for (size_t k : which) {
      batch.push_back(*in_order[k]), batch_reuse.push_back(reuse[k]);
      most_new_tokens = std::max(most_new_tokens, static_cast<size_t>(limits[k].max_new_tokens));
    }
    return prefill(batch, batch_reuse, static_cast<int64_t>(most_new_tokens));
  };
  size_t done = 0;
  auto finished = [&](size_t k, const GreedyResult& generated) {
    const size_t i = order[k];
    auto& result = results[i];
    result.generated_tokens = static_cast<int>(generated.tokens.size());
    counters_.forward_tokens += generated.tokens.size(), counters_.generated_tokens += generated.tokens.size();
    result.hit_max_tokens = generated.finish_reason == "length";
    result.text = cut_at_stop_strings(tokenizer.decode(generated.tokens), requests[i].until);
    ++done;
    if (progress) progress->finished(i, result), progress->advance(done, requests.size(), counters_.forward_tokens);
  };
  try {
    generate_continuously(model_, lengths, limits, stop_token_ids(files_), width, prefill_prompts, finished);
  } catch (const NonFiniteLogits& e) {
    std::vector<int> ids = *in_order.at(e.row);
    ids.insert(ids.end(), e.generated.begin(), e.generated.end());
    fail_non_finite(model_, files_, order.at(e.row), ids,
                    fmt::format("the logits after {} generated tokens", e.generated.size()));
  } catch (...) {
    rethrow_forward_failure(order.front(),
                            fmt::format("generation {} slots wide, up to {} tokens per sequence", width, longest));
  }
  return results;
}

// As many sequences as the KV cache budget holds at their longest (prompt + max_gen_toks), at most
// 32: wider batches stream the weights once for more tokens, until the step turns compute-bound.
int ModelEngine::generation_width(size_t requests, size_t longest_sequence) const {
  if (options_.generation_width > 0)
    return static_cast<int>(std::min<size_t>(requests, static_cast<size_t>(options_.generation_width)));
  const auto& c = model_.config();
  const int64_t bytes_per_token =
      int64_t{2} * c.num_layers * c.num_kv_heads * c.head_dim * torch::elementSize(model_.placement().dtype);
  const int64_t per_sequence = std::max<int64_t>(1, bytes_per_token * static_cast<int64_t>(longest_sequence));
  const int64_t fits = (options_.generation_memory_mb << 20) / per_sequence;
  return static_cast<int>(std::clamp<int64_t>(std::min<int64_t>(fits, static_cast<int64_t>(requests)), 1, 32));
}

std::string ModelEngine::describe_json() const {
  std::vector<std::filesystem::path> weight_files;
  for (const auto& entry : std::filesystem::directory_iterator(files_.dir))
    if (entry.path().extension() == ".safetensors") weight_files.push_back(entry.path());
  // Every byte of every file, hashed once per file and remembered (evals/weights_fingerprint.h).
  FileDigestMemo memo(default_digest_memo_path());
  const auto started = std::chrono::steady_clock::now();
  const WeightsFingerprint weights = weights_fingerprint(weight_files, memo);
  if (memo.stats().bytes_hashed >= (uint64_t{1} << 30))
    std::fprintf(stderr, "gemma-eval: hashed %.1f GB of weights in %.1f s for the fingerprint (remembered in %s)\n",
                 memo.stats().bytes_hashed / 1e9,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                 memo.path().empty() ? "no memo: neither $HOME nor $XDG_CACHE_HOME is set" : memo.path().c_str());
  const auto& tokenizer = *files_.tokenizer;
  nlohmann::ordered_json info = {
      {"model", files_.dir.string()},
      {"builtin_tiny_model", files_.builtin_tiny},
      {"architecture", files_.config.architecture},
      {"weights_fingerprint", weights.value},
      {"weights_fingerprint_rule", kWeightsFingerprintRule},
      {"weights_files", weights.files},
      {"tokenizer",
       {{"kind", tokenizer.kind()},
        {"path", tokenizer.source_path()},
        {"sha256", sha256_hex(read_file(tokenizer.source_path()))}}},
      {"device", model_.placement().label()},
      {"dtype", dtype_label(model_.placement().dtype)},
      {"dtype_reason", model_.placement().dtype_reason},
      {"batch_size", options_.batch_size},
      {"prefix_sharing", options_.prefix_sharing},
      {"prefix_cache_mb", prefix_cache_ ? options_.prefix_cache_mb : 0},
      {"generation_batch_size", options_.generation_width > 0 ? nlohmann::ordered_json(options_.generation_width)
                                                              : nlohmann::ordered_json("auto")},
      {"max_length", options_.max_length}};
  const auto& placement = model_.placement();
  if (placement.num_stages() > 1) {
    auto stages = nlohmann::ordered_json::array();
    const auto ranges = split_layers(files_.config.text.num_layers, placement.num_stages());
    for (int s = 0; s < placement.num_stages(); ++s)
      stages.push_back({{"device", placement.stage_device(s).str()}, {"layers", {ranges[s].begin, ranges[s].end}}});
    info["stages"] = stages;
  }
  return info.dump();
}

namespace {
void hash_ids(Sha256& hash, const std::vector<int>& ids) {
  for (int id : ids) hash.update(std::to_string(id) + ",");
  hash.update(";");
}
}  // namespace

std::string loglikelihood_request_id(const EncodedPair& pair) {
  Sha256 hash;
  hash.update("loglikelihood;");
  hash_ids(hash, pair.context);
  hash_ids(hash, pair.continuation);
  return hash.hex_digest();
}

std::string generation_request_id(const std::vector<int>& prompt, const std::vector<std::string>& until,
                                  int max_gen_toks) {
  Sha256 hash;
  hash.update("generate_until;greedy;max_gen_toks=" + std::to_string(max_gen_toks) + ";");
  hash_ids(hash, prompt);
  for (const auto& stop : until) hash.update(std::to_string(stop.size()) + ":" + stop);  // length-prefixed
  return hash.hex_digest();
}

}  // namespace gemma::evals
