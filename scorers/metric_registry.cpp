#include "scorers/metric_registry.h"

#include <algorithm>

#include "common/error.h"
#include "common/python_text.h"
#include "scorers/anls.h"
#include "scorers/bleu.h"
#include "scorers/choice_answer.h"
#include "scorers/chrf.h"
#include "scorers/cider.h"
#include "scorers/count_answer.h"
#include "scorers/drop.h"
#include "scorers/eclektic.h"
#include "scorers/exact_match.h"
#include "scorers/math_answer.h"
#include "scorers/mmmu.h"
#include "scorers/multiple_choice.h"
#include "scorers/ptb_tokenizer.h"
#include "scorers/relaxed_accuracy.h"
#include "scorers/spatial_answer.h"
#include "scorers/squad.h"
#include "scorers/vqa_accuracy.h"

namespace gemma::scorers {
namespace {

using nlohmann::ordered_json;

std::string join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const std::string& part : parts) out += (out.empty() ? "" : separator) + part;
  return out;
}

// ---- exact_match: lm-eval's metric_list arguments ----

ordered_json exact_match_defaults() {
  return {{"ignore_case", false},
          {"ignore_punctuation", false},
          {"ignore_numbers", false},
          {"regexes_to_ignore", ordered_json::array()}};
}

ItemScoreFn exact_match_scorer(const ordered_json& options) {
  ExactMatchOptions parsed;
  parsed.ignore_case = options.at("ignore_case").get<bool>();
  parsed.ignore_punctuation = options.at("ignore_punctuation").get<bool>();
  parsed.ignore_numbers = options.at("ignore_numbers").get<bool>();
  parsed.regexes_to_ignore = options.at("regexes_to_ignore").get<std::vector<std::string>>();
  auto compiled = std::make_shared<const ExactMatch>(parsed);  // regexes compiled once, shared by copies
  return [compiled](const MetricDoc&, const std::string& prediction, const std::vector<std::string>& references,
                    const MetricContext&) -> ItemScores {
    return {{"exact_match", compiled->score(prediction, references)}};
  };
}

// An item metric whose value is one function of (prediction, references).
Metric item_metric(std::string name, std::string variant, std::vector<std::string> aliases,
                   std::function<ItemScores(const std::string&, const std::vector<std::string>&)> score) {
  Metric metric;
  metric.name = std::move(name);
  metric.variant = std::move(variant);
  metric.aliases = std::move(aliases);
  metric.score = [score = std::move(score)](const MetricDoc&, const std::string& prediction,
                                            const std::vector<std::string>& references,
                                            const MetricContext&) { return score(prediction, references); };
  return metric;
}

// An item metric scored by one task's answer check, reported under the metric's name.
Metric answer_check(std::string name, std::string variant,
                    double (*check)(const std::string& prediction, const std::vector<std::string>& references)) {
  const std::string reported = name;
  return item_metric(std::move(name), std::move(variant), {},
                     [reported, check](const std::string& prediction, const std::vector<std::string>& references) {
                       return ItemScores{{reported, check(prediction, references)}};
                     });
}

// ---- multiple choice: lm-eval's process_results over a request's loglikelihoods ----

bool is_multiple_choice_record(const MetricDoc& doc) { return doc.is_object() && doc.contains("loglikelihoods"); }

MultipleChoiceScores scores_of_record(const MetricDoc& record) {
  return score_multiple_choice(
      record.at("loglikelihoods").get<std::vector<double>>(), record.at("is_greedy").get<std::vector<bool>>(),
      record.at("choices").get<std::vector<std::string>>(), record.at("golds").get<std::vector<long>>());
}

// A metric defined only over loglikelihoods (acc_norm, acc_bytes): there is no text to score offline.
Metric multiple_choice_metric(std::string name, double (*pick)(const MultipleChoiceScores&)) {
  Metric metric;
  metric.name = std::move(name);
  metric.score = [name = metric.name, pick](const MetricDoc& doc, const std::string&, const std::vector<std::string>&,
                                            const MetricContext&) {
    if (!is_multiple_choice_record(doc))
      fail("metric {} scores a multiple-choice request's loglikelihoods; it was given no multiple-choice record", name);
    return ItemScores{{name, pick(scores_of_record(doc))}};
  };
  return metric;
}

// ---- corpus metrics ----

PreparedCorpus chrf_corpus(const std::vector<std::string>& predictions,
                           const std::vector<std::vector<std::string>>& references, const ChrfOptions& options) {
  if (predictions.size() != references.size() || predictions.empty())
    fail("chrF: {} predictions for {} reference sets (need the same, non-zero number)", predictions.size(),
         references.size());
  // Per-segment statistics once; the corpus score and every bootstrap resample sum them.
  auto statistics = std::make_shared<std::vector<std::vector<long long>>>();
  for (size_t i = 0; i < predictions.size(); ++i)
    statistics->push_back(chrf_segment_statistics(predictions[i], references[i], options));
  PreparedCorpus corpus;
  corpus.score = [statistics, options](const std::vector<size_t>& picked) {
    std::vector<long long> total(statistics->front().size(), 0);
    for (size_t i : picked)
      for (size_t k = 0; k < total.size(); ++k) total[k] += (*statistics)[i][k];
    return chrf_from_statistics(total, options);
  };
  corpus.details = {{"signature", chrf_signature(options, static_cast<int>(references.front().size()))}};
  return corpus;
}

Metric chrf_metric(std::string name, std::vector<std::string> aliases, int word_order) {
  Metric metric;
  metric.name = std::move(name);
  metric.aliases = std::move(aliases);
  metric.aggregation = Aggregation::kCorpus;
  metric.bootstrap_iters = 100;  // lm-eval: chrf bootstraps min(bootstrap_iters, 100)
  metric.options = {{"word_order", word_order}};
  metric.corpus_score = [word_order](const std::vector<std::string>& predictions,
                                     const std::vector<std::vector<std::string>>& references) {
    ChrfOptions options;
    options.word_order = word_order;
    return chrf_corpus(predictions, references, options);
  };
  return metric;
}

// A corpus metric that is one function of (predictions, references): its score over picked items is the
// function of those items (in the picked order, repeats kept).
Metric corpus_function_metric(std::string name, std::string variant,
                              double (*statistic)(const std::vector<std::string>& predictions,
                                                  const std::vector<std::vector<std::string>>& references)) {
  Metric metric;
  metric.name = std::move(name);
  metric.variant = std::move(variant);
  metric.aggregation = Aggregation::kCorpus;
  metric.corpus_score = [statistic](const std::vector<std::string>& predictions,
                                    const std::vector<std::vector<std::string>>& references) {
    PreparedCorpus corpus;
    corpus.score = [predictions, references, statistic](const std::vector<size_t>& picked) {
      std::vector<std::string> picked_predictions;
      std::vector<std::vector<std::string>> picked_references;
      for (size_t i : picked) {
        picked_predictions.push_back(predictions.at(i));
        picked_references.push_back(references.at(i));
      }
      return statistic(picked_predictions, picked_references);
    };
    return corpus;
  };
  return metric;
}

// pycocoevalcap tokenises all references (one stream) and all candidates (another) before CIDEr/BLEU.
std::pair<std::vector<std::string>, std::vector<std::vector<std::string>>> caption_corpus(
    const std::vector<std::string>& predictions, const std::vector<std::vector<std::string>>& references,
    const std::vector<size_t>& picked, bool ptb) {
  std::vector<std::string> hypotheses;
  std::vector<std::vector<std::string>> golds;
  for (size_t i : picked) {
    hypotheses.push_back(predictions[i]);
    golds.push_back(references[i]);
  }
  if (ptb) {
    hypotheses = ptb_tokenize_captions(hypotheses);
    std::vector<std::string> flat;
    for (const auto& r : golds) flat.insert(flat.end(), r.begin(), r.end());
    const std::vector<std::string> tokenized = ptb_tokenize_captions(flat);
    size_t k = 0;
    for (auto& r : golds)
      for (auto& caption : r) caption = tokenized[k++];
  }
  return {hypotheses, golds};
}

std::vector<size_t> every_index(size_t n) {
  std::vector<size_t> all(n);
  for (size_t i = 0; i < n; ++i) all[i] = i;
  return all;
}

Metric caption_metric(std::string name, std::string variant, std::vector<std::string> aliases, bool bleu) {
  Metric metric;
  metric.name = std::move(name);
  metric.aliases = std::move(aliases);
  const bool ptb = variant == "ptb";
  metric.variant = std::move(variant);
  metric.aggregation = Aggregation::kCorpus;
  metric.corpus_score = [ptb, bleu](const std::vector<std::string>& predictions,
                                    const std::vector<std::vector<std::string>>& references) {
    PreparedCorpus corpus;
    corpus.score = [predictions, references, ptb, bleu](const std::vector<size_t>& picked) {
      const auto [hypotheses, golds] = caption_corpus(predictions, references, picked, ptb);
      return bleu ? coco_bleu(hypotheses, golds).bleu[3] : cider_d(hypotheses, golds).score;
    };
    if (bleu) {
      const auto [hypotheses, golds] = caption_corpus(predictions, references, every_index(predictions.size()), ptb);
      const CocoBleuResult result = coco_bleu(hypotheses, golds);
      corpus.details = {{"components",
                         {{"Bleu_1", result.bleu[0]},
                          {"Bleu_2", result.bleu[1]},
                          {"Bleu_3", result.bleu[2]},
                          {"Bleu_4", result.bleu[3]},
                          {"testlen", result.testlen},
                          {"reflen", result.reflen},
                          {"ref_length_rule", bleu_ref_length_name(BleuRefLength::Closest)}}}};
    }
    return corpus;
  };
  return metric;
}

// ---- the built-in table ----

MetricRegistry make_builtin_registry() {
  MetricRegistry registry;
  {
    Metric em;
    em.name = "exact_match";
    em.aliases = {"em"};
    em.options = exact_match_defaults();
    em.configure = exact_match_scorer;
    em.score = exact_match_scorer(em.options);
    registry.add(std::move(em));
  }
  {
    // lmms-eval ai2d (lmms_eval/tasks/ai2d/utils.py@75571cfe): its letter extraction, then exact_match with
    // lm-eval's options, ignore_case and ignore_punctuation by default (ai2d.yaml's metric_list).
    Metric ai2d;
    ai2d.name = "exact_match";
    ai2d.variant = "lmms_ai2d";
    ai2d.options = exact_match_defaults();
    ai2d.options["ignore_case"] = true;
    ai2d.options["ignore_punctuation"] = true;
    ai2d.configure = [](const ordered_json& options) -> ItemScoreFn {
      const ItemScoreFn exact_match = exact_match_scorer(options);
      return [exact_match](const MetricDoc& doc, const std::string& prediction,
                           const std::vector<std::string>& references, const MetricContext& context) {
        return exact_match(doc, ai2d_extract(prediction), references, context);
      };
    };
    ai2d.score = ai2d.configure(ai2d.options);
    registry.add(std::move(ai2d));
  }
  // lmms-eval realworldqa (lmms_eval/tasks/realworldqa/@75571cfe, _task_utils/mcq_extract.py@c228e273).
  registry.add(answer_check("exact_match", "lmms_realworldqa", realworldqa_accuracy));
  {
    // With a multiple-choice record as the doc (multiple_choice_record), lm-eval's loglikelihood
    // accuracy; without one (score, a generated label), whitespace-stripped equality with any reference.
    Metric acc;
    acc.name = "acc";
    acc.score = [](const MetricDoc& doc, const std::string& prediction, const std::vector<std::string>& references,
                   const MetricContext&) {
      if (is_multiple_choice_record(doc)) return ItemScores{{"acc", scores_of_record(doc).acc}};
      const std::string label = python_strip(prediction);
      const bool hit = std::any_of(references.begin(), references.end(),
                                   [&](const std::string& r) { return python_strip(r) == label; });
      return ItemScores{{"acc", hit ? 1.0 : 0.0}};
    };
    registry.add(std::move(acc));
  }
  // Task-specific accuracies over a generated answer (the plain acc above stays the default):
  //  agieval_math: AGIEval's parse_math_answer + is_equiv (lm-eval tasks/agieval/utils.py, from
  //    ruixiangcui/AGIEval post_process.py), for agieval_math and agieval_gaokao_mathcloze;
  //  big_vision_tallyqa / big_vision_countbenchqa / lmms_countbenchqa: scorers/count_answer.h;
  //  spatialsense / remi: scorers/spatial_answer.h (inferred from the papers, no reference code).
  registry.add(answer_check("acc", "agieval_math",
                            [](const std::string& prediction, const std::vector<std::string>& references) {
                              return !references.empty() && agieval_math_correct(prediction, references[0]) ? 1.0 : 0.0;
                            }));
  registry.add(answer_check("acc", "big_vision_tallyqa", tallyqa_accuracy));
  registry.add(answer_check("acc", "big_vision_countbenchqa", countbenchqa_big_vision_accuracy));
  registry.add(answer_check("acc", "lmms_countbenchqa", countbenchqa_lmms_accuracy));
  registry.add(answer_check("acc", "spatialsense", spatialsense_accuracy));
  registry.add(answer_check("acc", "remi", remi_accuracy));
  registry.add(multiple_choice_metric("acc_norm", [](const MultipleChoiceScores& s) { return s.acc_norm; }));
  registry.add(multiple_choice_metric("acc_bytes", [](const MultipleChoiceScores& s) { return s.acc_bytes; }));
  registry.add(item_metric("f1", "", {}, [](const std::string& prediction, const std::vector<std::string>& references) {
    return ItemScores{{"f1", squad_f1_max_over_references(prediction, references)}};
  }));
  registry.add(
      item_metric("squad", "max", {}, [](const std::string& prediction, const std::vector<std::string>& references) {
        return ItemScores{{"exact_match", squad_exact_max_over_references(prediction, references)},
                          {"f1", squad_f1_max_over_references(prediction, references)}};
      }));
  registry.add(
      item_metric("squad", "first", {}, [](const std::string& prediction, const std::vector<std::string>& references) {
        return ItemScores{{"exact_match", squad_exact_first_reference(prediction, references)},
                          {"f1", squad_f1_first_reference(prediction, references)}};
      }));
  registry.add(
      item_metric("drop", "", {}, [](const std::string& prediction, const std::vector<std::string>& references) {
        // A plain-text reference is a one-span gold answer; the task's own references are JSON arrays.
        std::vector<std::string> golds;
        for (const std::string& r : references)
          golds.push_back(!r.empty() && r.front() == '[' ? r : drop::encode_gold({r}));
        return ItemScores{{"exact_match", drop::drop_exact_match(prediction, golds)},
                          {"f1", drop::drop_f1(prediction, golds)}};
      }));
  registry.add(chrf_metric("chrf", {}, 0));
  {
    // IndicGenBench: the mean over data files (language and direction) of corpus chrF, each item's
    // reference the {"target", "group"} object the indicgenbench tasks write (scorers/chrf.h
    // mean_group_chrf). No bootstrap stderr: a mean of corpus statistics over groups.
    Metric grouped = corpus_function_metric("chrf", "indicgenbench", mean_group_chrf);
    grouped.options = ordered_json::object();
    registry.add(std::move(grouped));
  }
  registry.add(chrf_metric("chrf++", {"chrfpp"}, 2));
  for (const char* variant : {kMinervaSympyVariant, kMinervaStringVariant}) {
    const auto equivalent =
        std::string(variant) == kMinervaStringVariant ? minerva_string_equivalent : minerva_is_equiv;
    registry.add(item_metric("math", variant, {"minerva_math"},
                             [equivalent](const std::string& prediction, const std::vector<std::string>& references) {
                               const bool same =
                                   std::any_of(references.begin(), references.end(),
                                               [&](const std::string& r) { return equivalent(prediction, r); });
                               return ItemScores{{"exact_match", same ? 1.0 : 0.0}};
                             }));
  }
  {
    // The prediction is a Python program and the references its test code, appended; 1 when it runs to
    // exit 0 (HF code_eval's check, lm-eval's pass@1 with one greedy sample).
    Metric pass;
    pass.name = "pass@1";
    pass.aliases = {"pass_at_1"};
    pass.executes_code = true;
    pass.score = [](const MetricDoc&, const std::string& prediction, const std::vector<std::string>& references,
                    const MetricContext& context) {
      if (!context.program_passes) fail("metric pass@1 runs programs, and no program runner was given");
      std::string program = prediction;
      for (const std::string& test : references) program += "\n" + test;
      return ItemScores{{"pass@1", context.program_passes(program + "\n") ? 1.0 : 0.0}};
    };
    registry.add(std::move(pass));
  }
  for (const char* variant : {"lmms", "official"}) {
    const AnlsVariant parsed = *parse_anls_variant(variant);
    registry.add(item_metric("anls", variant, {},
                             [parsed](const std::string& prediction, const std::vector<std::string>& references) {
                               return ItemScores{{"anls", anls(prediction, references, parsed)}};
                             }));
  }
  for (const char* variant : {"lmms_vqav2", "lmms_textvqa", "lmms_okvqa", "official"}) {
    // lmms-eval's OK-VQA scorer is its TextVQA one.
    const VqaVariant parsed = *parse_vqa_variant(std::string(variant) == "lmms_okvqa" ? "lmms_textvqa" : variant);
    registry.add(item_metric("vqa", variant, {"vqa_accuracy"},
                             [parsed](const std::string& prediction, const std::vector<std::string>& references) {
                               return ItemScores{{"vqa", vqa_accuracy(prediction, references, parsed)}};
                             }));
  }
  registry.add(item_metric("relaxed", kRelaxedAccuracyVariant, {"relaxed_accuracy"},
                           [](const std::string& prediction, const std::vector<std::string>& references) {
                             return ItemScores{{"relaxed", relaxed_accuracy(prediction, references)}};
                           }));
  {
    // MMMU's answer check. With the dataset row, its answer and options come from the doc; without one
    // (rescore, score) the references carry them as the mmmu_val task writes them: {answer} for an open
    // question, {answer, option A, option B, ...} for a multiple-choice one.
    Metric mmmu_metric;
    mmmu_metric.name = "mmmu";
    mmmu_metric.aliases = {"mmmu_acc"};
    mmmu_metric.score = [](const MetricDoc& doc, const std::string& prediction,
                           const std::vector<std::string>& references, const MetricContext&) {
      if (doc.is_object() && doc.contains("answer")) {
        std::vector<std::string> options;
        if (doc.value("question_type", "") == "multiple-choice")
          options = doc.at("options").get<std::vector<std::string>>();
        return ItemScores{{"mmmu_acc", mmmu::mmmu_accuracy(prediction, doc.at("answer").get<std::string>(), options)}};
      }
      if (references.empty()) fail("metric mmmu: no reference answer");
      const std::vector<std::string> options(references.begin() + 1, references.end());
      return ItemScores{{"mmmu_acc", mmmu::mmmu_accuracy(prediction, references.front(), options)}};
    };
    registry.add(std::move(mmmu_metric));
  }
  // lmms-eval blink (lmms_eval/tasks/blink/@75571cfe): the filtered leading letter against the gold one.
  registry.add(answer_check("blink_acc", "", blink_accuracy));
  // ECLeKTic (the ECLeKTic paper; approximate, the paper uses an LLM judge): scorers/eclektic.h, over
  // references that encode each doc's question id and languages.
  registry.add(answer_check("correct", "eclektic", eclektic_correct));
  registry.add(corpus_function_metric("overall_success", "eclektic", eclektic_overall_success));
  registry.add(corpus_function_metric("transfer", "eclektic", eclektic_transfer));
  for (const char* variant : {"ptb", "tokenized"}) registry.add(caption_metric("cider", variant, {"cider_d"}, false));
  for (const char* variant : {"ptb", "tokenized"}) registry.add(caption_metric("bleu", variant, {"bleu_4"}, true));
  return registry;
}

}  // namespace

const char* aggregation_name(Aggregation aggregation) {
  return aggregation == Aggregation::kCorpus ? "corpus" : "mean";
}

MetricDoc multiple_choice_record(const std::vector<double>& loglikelihoods, const std::vector<bool>& is_greedy,
                                 const std::vector<std::string>& choices, const std::vector<long>& golds) {
  return {{"loglikelihoods", loglikelihoods}, {"is_greedy", is_greedy}, {"choices", choices}, {"golds", golds}};
}

std::string Metric::key() const { return variant.empty() ? name : name + ":" + variant; }

MetricKey parse_metric_key(const std::string& key) {
  const size_t colon = key.find(':');
  if (colon == std::string::npos) return {key, "", false};
  return {key.substr(0, colon), key.substr(colon + 1), true};
}

void MetricRegistry::add(Metric metric) {
  if (metric.name.empty() || metric.name.find(':') != std::string::npos)
    fail("metric registry: bad metric name \"{}\" (non-empty, no ':')", metric.name);
  const bool scorable = metric.aggregation == Aggregation::kCorpus ? bool(metric.corpus_score) : bool(metric.score);
  if (!scorable) fail("metric registry: {} has no scoring function for its aggregation", metric.key());
  for (const Metric& known : entries_) {
    if (known.key() == metric.key()) fail("metric registry: {} is registered twice", metric.key());
    // A name's entry without a variant is its default, so it must come first (and once).
    if (known.name == metric.name && metric.variant.empty())
      fail("metric registry: {} without a variant must be the name's first entry", metric.name);
  }
  entries_.push_back(std::move(metric));
}

const Metric* MetricRegistry::first_of(const std::string& name) const {
  for (const Metric& metric : entries_)
    if (metric.name == name || std::find(metric.aliases.begin(), metric.aliases.end(), name) != metric.aliases.end())
      return &metric;
  return nullptr;
}

std::vector<std::string> MetricRegistry::variants(const std::string& name) const {
  std::vector<std::string> out;
  const Metric* first = first_of(name);
  if (!first) return out;
  for (const Metric& metric : entries_)
    if (metric.name == first->name && !metric.variant.empty()) out.push_back(metric.variant);
  return out;
}

const Metric* MetricRegistry::lookup(const std::string& key) const {
  const MetricKey parsed = parse_metric_key(key);
  const Metric* first = first_of(parsed.name);
  if (!first || !parsed.has_variant) return first;
  for (const Metric& metric : entries_)
    if (metric.name == first->name && metric.variant == parsed.variant && !metric.variant.empty()) return &metric;
  return nullptr;
}

const Metric& MetricRegistry::find(const std::string& key) const {
  if (const Metric* metric = lookup(key)) return *metric;
  const MetricKey parsed = parse_metric_key(key);
  const Metric* first = first_of(parsed.name);
  if (!first) fail("unknown metric \"{}\" (known: {})", parsed.name, describe());
  const std::vector<std::string> known = variants(parsed.name);
  fail("unknown variant \"{}\" of metric {} (known: {})", parsed.variant, first->name,
       known.empty() ? "it has none" : join(known, ", "));
}

Metric MetricRegistry::find(const std::string& key, const nlohmann::ordered_json& options) const {
  Metric metric = find(key);
  if (!options.is_object())
    fail("metric {}: options must be a JSON object (found {})", metric.key(), options.type_name());
  if (options.empty()) return metric;
  if (!metric.configure) fail("metric {} takes no options (given: {})", metric.key(), options.dump());
  ordered_json merged = metric.options;
  for (const auto& [option, value] : options.items()) {
    if (!merged.contains(option)) {
      std::vector<std::string> known;
      for (const auto& [name, unused] : metric.options.items()) known.push_back(name);
      fail("metric {}: unknown option \"{}\" (known: {})", metric.key(), option, join(known, ", "));
    }
    if (merged[option].type() != value.type() && !(merged[option].is_number() && value.is_number()))
      fail("metric {}: option \"{}\" must be a {} (found {})", metric.key(), option, merged[option].type_name(),
           value.type_name());
    merged[option] = value;
  }
  metric.score = metric.configure(merged);
  metric.options = std::move(merged);
  return metric;
}

std::string MetricRegistry::describe() const {
  std::vector<std::string> names;  // canonical names in registration order
  for (const Metric& metric : entries_)
    if (std::find(names.begin(), names.end(), metric.name) == names.end()) names.push_back(metric.name);
  std::string out;
  for (const std::string& name : names) {
    const Metric* first = first_of(name);
    out += (out.empty() ? "" : ", ") + name;
    for (const std::string& alias : first->aliases) out += ", " + alias;
    const std::vector<std::string> known = variants(name);
    if (!known.empty()) out += "[:" + join(known, "|") + "]";
  }
  return out;
}

const MetricRegistry& metric_registry() {
  static const MetricRegistry registry = make_builtin_registry();
  return registry;
}

}  // namespace gemma::scorers
