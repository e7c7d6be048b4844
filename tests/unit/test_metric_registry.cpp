// scorers/metric_registry.h: lookup by NAME[:VARIANT] and alias, defaults, errors that name the known
// metrics and variants, options (exact_match's lm-eval arguments), code execution through the context,
// and the tasks whose metrics come from it (evals/registry_metric.h).
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "common/error.h"
#include "evals/aggregation.h"
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "scorers/metric_registry.h"
#include "scorers/multiple_choice.h"

using namespace gemma;
using namespace gemma::scorers;
using Catch::Matchers::Contains;

namespace {

double headline(const Metric& metric, const std::string& prediction, const std::vector<std::string>& references,
                const MetricContext& context = {}) {
  return metric.score(MetricDoc(), prediction, references, context).front().second;
}

// acc_norm has no text form: without a multiple-choice record there is nothing to score.
double registry_metric_headline_of_acc_norm_without_record() {
  return headline(metric_registry().find("acc_norm"), "0", {"0"});
}

}  // namespace

TEST_CASE("metric keys split at the first colon", "[metric_registry]") {
  const MetricKey plain = parse_metric_key("anls");
  CHECK(plain.name == "anls");
  CHECK_FALSE(plain.has_variant);
  const MetricKey with = parse_metric_key("vqa:lmms_okvqa");
  CHECK(with.name == "vqa");
  CHECK(with.variant == "lmms_okvqa");
  CHECK(with.has_variant);
  const MetricKey empty = parse_metric_key("anls:");
  CHECK(empty.has_variant);
  CHECK(empty.variant.empty());
}

TEST_CASE("the registry finds metrics by name, alias and variant; the first variant is the default",
          "[metric_registry]") {
  const MetricRegistry& registry = metric_registry();
  CHECK(registry.find("em").name == "exact_match");
  CHECK(registry.find("anls").variant == "lmms");
  CHECK(registry.find("anls:official").variant == "official");
  CHECK(registry.find("vqa_accuracy:official").key() == "vqa:official");
  CHECK(registry.find("minerva_math").variant == "sympy");
  CHECK(registry.find("chrfpp").name == "chrf++");
  CHECK(registry.find("chrf").aggregation == Aggregation::kCorpus);
  CHECK(registry.find("chrf").bootstrap_iters == 100);
  CHECK(registry.find("cider").bootstrap_iters == 0);
  CHECK(registry.find("pass@1").executes_code);
  CHECK_FALSE(registry.find("exact_match").executes_code);
  CHECK(registry.variants("bleu_4") == std::vector<std::string>{"ptb", "tokenized"});
  CHECK(registry.variants("exact_match") == std::vector<std::string>{"lmms_ai2d", "lmms_realworldqa"});
  CHECK(registry.variants("f1").empty());
  // A name with an entry without a variant defaults to it; its variants are found by key.
  CHECK(registry.find("acc").key() == "acc");
  CHECK(registry.find("em").key() == "exact_match");
  CHECK(registry.find("acc:remi").key() == "acc:remi");
  CHECK(registry.find("chrf").bootstrap_iters == 100);
  CHECK(registry.find("chrf:indicgenbench").bootstrap_iters == 0);
  CHECK(registry.lookup("meteor") == nullptr);
  CHECK(registry.lookup("anls:nope") == nullptr);
  CHECK(registry.lookup("exact_match:x") == nullptr);
  CHECK(registry.lookup("acc:") == nullptr);

  // Every entry is findable by its own key, and keys are unique.
  std::set<std::string> keys;
  for (const Metric& metric : registry.entries()) {
    CHECK(&registry.find(metric.key()) == &metric);
    CHECK(keys.insert(metric.key()).second);
  }
}

TEST_CASE("the registry's listing is what score --help shows", "[metric_registry]") {
  CHECK(metric_registry().describe() ==
        "exact_match, em[:lmms_ai2d|lmms_realworldqa], "
        "acc[:agieval_math|big_vision_tallyqa|big_vision_countbenchqa|lmms_countbenchqa|spatialsense|remi], acc_norm, "
        "acc_bytes, f1, squad[:max|first], drop, chrf[:indicgenbench], chrf++, chrfpp, math, "
        "minerva_math[:sympy|minerva-norm], pass@1, pass_at_1, anls[:lmms|official], vqa, "
        "vqa_accuracy[:lmms_vqav2|lmms_textvqa|lmms_okvqa|official], relaxed, relaxed_accuracy[:lmms], mmmu, mmmu_acc, "
        "blink_acc, correct[:eclektic], overall_success[:eclektic], transfer[:eclektic], cider, "
        "cider_d[:ptb|tokenized], bleu, bleu_4[:ptb|tokenized]");
}

TEST_CASE("unknown metrics and variants are errors naming the known ones", "[metric_registry]") {
  const MetricRegistry& registry = metric_registry();
  CHECK_THROWS_WITH(registry.find("meteor"), Contains("unknown metric \"meteor\"") && Contains("exact_match, em"));
  CHECK_THROWS_WITH(registry.find("anls:nope"),
                    Contains("unknown variant \"nope\" of metric anls") && Contains("known: lmms, official"));
  CHECK_THROWS_WITH(registry.find("f1:x"), Contains("known: it has none"));
}

TEST_CASE("scoring functions score through the registry", "[metric_registry]") {
  const MetricRegistry& registry = metric_registry();
  CHECK(headline(registry.find("exact_match"), "42", {"7", "42"}) == 1.0);
  CHECK(headline(registry.find("exact_match"), " 42", {"42"}) == 0.0);  // no trimming by default
  CHECK(headline(registry.find("acc"), "  B ", {"B"}) == 1.0);
  const ItemScores squad = registry.find("squad:first").score(MetricDoc(), "the cat", {"cat", "dog"}, {});
  REQUIRE(squad.size() == 2);
  CHECK(squad[0] == std::make_pair(std::string("exact_match"), 1.0));
  CHECK(squad[1].first == "f1");

  const PreparedCorpus chrf = registry.find("chrf").corpus_score({"hello world", "abc"}, {{"hello world"}, {"abd"}});
  CHECK(chrf.score({0}) == Approx(100.0));
  CHECK(chrf.score({0, 1}) < 100.0);
  CHECK(chrf.details.contains("signature"));
  const PreparedCorpus bleu = registry.find("bleu:tokenized").corpus_score({"a b c d"}, {{"a b c d"}});
  CHECK(bleu.details["components"].contains("Bleu_4"));
}

TEST_CASE("mmmu reads its answer and options from the doc, or from the references without one", "[metric_registry]") {
  const Metric& mmmu = metric_registry().find("mmmu_acc");
  const MetricDoc doc = {{"answer", "B"}, {"question_type", "multiple-choice"}, {"options", {"cat", "dog"}}};
  const MetricDoc open = {{"answer", "3.14"}, {"question_type", "open"}, {"options", MetricDoc::array()}};
  CHECK(mmmu.score(doc, "(B)", {}, {}).front().second == 1.0);
  CHECK(mmmu.score(doc, "I believe the correct option is dog because it barks", {}, {}).front().second == 1.0);
  CHECK(mmmu.score(open, "The answer is 3.14", {}, {}).front().second == 1.0);
  CHECK(headline(mmmu, "(B)", {"B", "cat", "dog"}) == 1.0);
  CHECK(headline(mmmu, "(A)", {"B", "cat", "dog"}) == 0.0);
  CHECK(headline(mmmu, "x = 5.0", {"5"}) == 1.0);
  CHECK_THROWS_WITH(headline(mmmu, "x", {}), Contains("no reference answer"));
}

TEST_CASE("exact_match takes lm-eval's metric_list options; others take none", "[metric_registry]") {
  const MetricRegistry& registry = metric_registry();
  const Metric icase = registry.find("exact_match", {{"ignore_case", true}, {"regexes_to_ignore", {","}}});
  CHECK(icase.options["ignore_case"] == true);
  CHECK(icase.options["ignore_punctuation"] == false);
  CHECK(headline(icase, "1,000 Apples", {"1000 apples"}) == 1.0);
  CHECK(headline(registry.find("exact_match"), "1,000 Apples", {"1000 apples"}) == 0.0);  // the entry is unchanged

  CHECK_THROWS_WITH(registry.find("exact_match", {{"ignore_caps", true}}),
                    Contains("unknown option \"ignore_caps\"") && Contains("ignore_case, ignore_punctuation"));
  CHECK_THROWS_WITH(registry.find("exact_match", {{"ignore_case", "yes"}}),
                    Contains("option \"ignore_case\" must be a boolean"));
  CHECK_THROWS_WITH(registry.find("anls", {{"threshold", 0.5}}), Contains("metric anls:lmms takes no options"));
}

TEST_CASE("pass@1 runs programs only through the runner the caller passes", "[metric_registry]") {
  const Metric& pass = metric_registry().find("pass_at_1");
  CHECK_THROWS_WITH(headline(pass, "x = 1", {"assert x == 1"}), Contains("no program runner"));
  std::string ran;
  MetricContext context;
  context.program_passes = [&](const std::string& program) {
    ran = program;
    return true;
  };
  CHECK(headline(pass, "x = 1", {"assert x == 1"}, context) == 1.0);
  CHECK(ran == "x = 1\nassert x == 1\n");
}

TEST_CASE("the registry refuses duplicate keys and entries without a scoring function", "[metric_registry]") {
  MetricRegistry registry;
  Metric metric;
  metric.name = "m";
  CHECK_THROWS_WITH(registry.add(metric), Contains("m has no scoring function"));
  metric.score = [](const MetricDoc&, const std::string&, const std::vector<std::string>&, const MetricContext&) {
    return ItemScores{{"m", 1.0}};
  };
  registry.add(metric);
  CHECK_THROWS_WITH(registry.add(metric), Contains("m is registered twice"));
  metric.variant = "v";
  registry.add(metric);  // a variant beside the default entry without one
  CHECK(registry.find("m").variant.empty());
  Metric other = metric;
  other.name = "n";
  registry.add(other);  // n:v
  other.variant = "";
  CHECK_THROWS_WITH(registry.add(other), Contains("n without a variant must be the name's first entry"));
}

TEST_CASE("tasks' registry metrics resolve and score as the registry entry does", "[metric_registry]") {
  const std::vector<std::pair<std::string, std::vector<std::string>>> items = {
      {"12", {"12", "13"}}, {"cat", {"a cat"}}, {" The cat.", {"the cat", "dog"}}};
  const std::vector<std::string> corpus_predictions = {"a cat sat on the mat", "dog"};
  const std::vector<std::vector<std::string>> corpus_references = {{"a cat sat on a mat"}, {"a dog"}};
  // Entries whose references encode more than the answer (the tasks write them so): items in that form.
  const auto eclektic = [](const char* answer, const char* lang) {
    return nlohmann::json{{"answer", answer}, {"q_id", "1"}, {"lang", lang}, {"original_lang", "en"}}.dump();
  };
  const auto group = [](const char* target, const char* file) {
    return nlohmann::json{{"target", target}, {"group", file}}.dump();
  };
  const std::map<std::string, std::vector<std::vector<std::string>>> encoded_references = {
      {"correct:eclektic", {{eclektic("12", "en")}, {eclektic("cat", "de")}, {eclektic("the cat", "fr")}}},
      {"overall_success:eclektic", {{eclektic("cat", "en")}, {eclektic("dog", "de")}}},
      {"transfer:eclektic", {{eclektic("cat", "en")}, {eclektic("dog", "de")}}},
      {"chrf:indicgenbench", {{group("a cat sat on a mat", "f1")}, {group("a dog", "f2")}}}};
  size_t from_registry = 0;
  for (const gemma::evals::TaskSpec& task : gemma::evals::builtin_tasks()) {
    for (const gemma::evals::MetricSpec& metric : task.metrics) {
      INFO(task.name << " " << metric.name << " " << metric.registry_key);
      // Perplexity metrics aggregate the docs' log-likelihoods (evals/perplexity.h loglikelihood_metric):
      // there is no text prediction for `score --metric` to score.
      if (metric.aggregation != gemma::evals::MetricAggregation::Mean) {
        CHECK(task.output_type == gemma::evals::OutputType::LoglikelihoodRolling);
        CHECK(metric.registry_key.empty());
        continue;
      }
      // Every other task metric is a registry entry, so `score --metric` scores what the task reports.
      REQUIRE_FALSE(metric.registry_key.empty());
      ++from_registry;
      const auto encoded = encoded_references.find(metric.registry_key);
      const Metric& registered = metric_registry().find(metric.registry_key);
      const Metric entry =
          registered.configure ? metric_registry().find(metric.registry_key, metric.registry_options) : registered;
      CHECK(metric.registry_options == entry.options);
      CHECK(entry.key() == metric.registry_key);
      CHECK(metric.higher_is_better == entry.higher_is_better);
      CHECK(metric.bootstrap_iters == entry.bootstrap_iters);
      if (entry.executes_code) {  // scored through the sandbox: test_code_tasks.cpp runs real programs
        CHECK(task.executes_code);
        continue;
      }
      if (entry.aggregation == Aggregation::kCorpus) {
        REQUIRE(metric.corpus_score);
        const auto& references = encoded == encoded_references.end() ? corpus_references : encoded->second;
        CHECK(metric.corpus_score(corpus_predictions, references) ==
              entry.corpus_score(corpus_predictions, references).score({0, 1}));
        continue;
      }
      REQUIRE(metric.score);
      REQUIRE(metric.score_record);
      if (task.output_type == gemma::evals::OutputType::MultipleChoice) {
        // lm-eval's loglikelihood metrics: the registry entry over the doc's multiple-choice record is
        // the evaluator's score_multiple_choice field of the same name.
        for (const std::vector<long>& golds : std::vector<std::vector<long>>{{0}, {1}, {2}, {0, 2}}) {
          const std::vector<double> loglikelihoods = {-2.0, -1.5, -2.2};
          const std::vector<bool> is_greedy = {false, true, false};
          const std::vector<std::string> choices = {"aaaaaaaa", "b", "cccccccccccc"};
          const double expected = gemma::evals::multiple_choice_metric(
              metric.name, score_multiple_choice(loglikelihoods, is_greedy, choices, golds));
          CHECK(metric.score_record(multiple_choice_record(loglikelihoods, is_greedy, choices, golds), "", {}) ==
                expected);
        }
        continue;
      }
      for (size_t i = 0; i < items.size(); ++i) {
        const std::string& prediction = items[i].first;
        const std::vector<std::string>& references =
            encoded == encoded_references.end() ? items[i].second : encoded->second.at(i);
        const ItemScores scores = entry.score(MetricDoc(), prediction, references, {});
        double expected = scores.front().second;
        if (!metric.registry_sub_score.empty()) {
          const auto named = std::find_if(scores.begin(), scores.end(),
                                          [&](const auto& score) { return score.first == metric.registry_sub_score; });
          REQUIRE(named != scores.end());
          expected = named->second;
        }
        CHECK(metric.score(prediction, references) == expected);
      }
    }
  }
  CHECK(from_registry >= 300);  // MMLU's 57 subjects, the vision tasks, ... every task metric
  CHECK(gemma::evals::resolve_tasks("ok_vqa_val2014").front()->metrics.front().registry_key == "vqa:lmms_okvqa");
  CHECK(gemma::evals::resolve_tasks("arc_easy").front()->metrics.at(1).registry_key == "acc_norm");
  CHECK(gemma::evals::resolve_tasks("gsm8k").front()->metrics.front().registry_options.at("ignore_case") == true);
  CHECK(gemma::evals::resolve_tasks("xquad_de").front()->metrics.at(1).registry_sub_score == "f1");
  CHECK_THROWS_WITH(gemma::evals::registry_metric("anls:nope"), Contains("unknown variant \"nope\""));
  CHECK_THROWS_WITH(gemma::evals::registry_metric("pass@1"), Contains("runs code"));
  CHECK_THROWS_WITH(gemma::evals::registry_metric("exact_match", "", {{"ignore_cases", true}}),
                    Contains("unknown option \"ignore_cases\""));
  CHECK_THROWS_WITH(gemma::evals::registry_metric("squad:max", "", {}, "precision").score("a", {"a"}),
                    Contains("no sub-score \"precision\" (it reports: exact_match, f1)"));
  CHECK_THROWS_WITH(registry_metric_headline_of_acc_norm_without_record(), Contains("no multiple-choice record"));
}
