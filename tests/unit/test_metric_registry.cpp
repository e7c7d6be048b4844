// scorers/metric_registry.h: lookup by NAME[:VARIANT] and alias, defaults, errors that name the known
// metrics and variants, options (exact_match's lm-eval arguments), code execution through the context,
// and the tasks whose metrics come from it (evals/registry_metric.h).
#include <catch2/catch.hpp>
#include <set>

#include "common/error.h"
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "scorers/metric_registry.h"

using namespace gemma;
using namespace gemma::scorers;
using Catch::Matchers::Contains;

namespace {

double headline(const Metric& metric, const std::string& prediction, const std::vector<std::string>& references,
                const MetricContext& context = {}) {
  return metric.score(MetricDoc(), prediction, references, context).front().second;
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
  CHECK(registry.variants("exact_match").empty());
  CHECK(registry.lookup("meteor") == nullptr);
  CHECK(registry.lookup("anls:nope") == nullptr);
  CHECK(registry.lookup("exact_match:x") == nullptr);

  // Every entry is findable by its own key, and keys are unique.
  std::set<std::string> keys;
  for (const Metric& metric : registry.entries()) {
    CHECK(&registry.find(metric.key()) == &metric);
    CHECK(keys.insert(metric.key()).second);
  }
}

TEST_CASE("the registry's listing is what score --help shows", "[metric_registry]") {
  CHECK(metric_registry().describe() ==
        "exact_match, em, acc, f1, squad[:max|first], drop, chrf, chrf++, chrfpp, math, "
        "minerva_math[:sympy|minerva-norm], pass@1, pass_at_1, anls[:lmms|official], vqa, "
        "vqa_accuracy[:lmms_vqav2|lmms_textvqa|lmms_okvqa|official], relaxed, relaxed_accuracy[:lmms], mmmu, mmmu_acc, "
        "cider, "
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
  CHECK_THROWS_WITH(registry.add(metric), Contains("mixes entries with and without a variant"));
}

TEST_CASE("tasks' registry metrics resolve and score as the registry entry does", "[metric_registry]") {
  size_t from_registry = 0;
  for (const gemma::evals::TaskSpec& task : gemma::evals::builtin_tasks()) {
    for (const gemma::evals::MetricSpec& metric : task.metrics) {
      if (metric.registry_key.empty()) continue;
      ++from_registry;
      INFO(task.name << " " << metric.name << " " << metric.registry_key);
      const Metric& entry = metric_registry().find(metric.registry_key);
      CHECK(entry.key() == metric.registry_key);
      CHECK(metric.variant == entry.variant);
      REQUIRE(metric.score);
      for (const auto& [prediction, references] :
           std::vector<std::pair<std::string, std::vector<std::string>>>{{"12", {"12", "13"}}, {"cat", {"a cat"}}})
        CHECK(metric.score(prediction, references) == headline(entry, prediction, references));
    }
  }
  // docvqa, infovqa (anls), chartqa (3 relaxed rows), textvqa, vqav2, ok_vqa (vqa): every one.
  CHECK(from_registry >= 8);
  CHECK(gemma::evals::resolve_tasks("ok_vqa_val2014").front()->metrics.front().registry_key == "vqa:lmms_okvqa");
  CHECK_THROWS_WITH(gemma::evals::registry_metric("anls:nope"), Contains("unknown variant \"nope\""));
  CHECK_THROWS_WITH(gemma::evals::registry_metric("pass@1"), Contains("runs code"));
}
