// Open-QA scorers against reference vectors: SQuAD EM/F1 (transformers data/metrics/squad_metrics.py) and DROP
// EM/F1 with its number handling (lm-eval lm_eval/tasks/drop/utils.py@4e7e0d47), plus the references encoding DROP
// rescoring relies on.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/error.h"
#include "scorers/drop.h"
#include "scorers/squad.h"

using namespace gemma::scorers;

// ---------------------------------------------------------------- SQuAD (transformers data/metrics/squad_metrics.py)

TEST_CASE("squad: normalize_answer", "[scorers][squad]") {
  CHECK(squad_normalize_answer("The Denver Broncos.") == "denver broncos");
  CHECK(squad_normalize_answer("  a  cat\tsat ") == "cat sat");
  CHECK(squad_normalize_answer("1,000") == "1000");
  // Articles only as whole words: "theatre", "an" inside "answer", "a" before a non-ASCII letter stay.
  CHECK(squad_normalize_answer("Theatre answer") == "theatre answer");
  CHECK(squad_normalize_answer("aé the-end") == "aé theend");
  CHECK(squad_normalize_answer("an apple, the pear; a fig") == "apple pear fig");
  CHECK(remove_english_articles("the") == " ");
  CHECK(remove_english_articles("x an y") == "x   y");
  CHECK(remove_english_articles("an") == " ");
  // Python str.lower beyond ASCII (Cyrillic), punctuation removal is ASCII only ("¿" stays).
  CHECK(squad_normalize_answer("МОСКВА") == "москва");
  CHECK(squad_normalize_answer("¿Qué?") == "¿qué");
}

TEST_CASE("squad: reference vectors", "[scorers][squad]") {
  CHECK(squad_exact("Denver Broncos", "The Denver Broncos.") == 1.0);
  CHECK(squad_f1("Denver Broncos", "The Denver Broncos.") == 1.0);
  CHECK(squad_exact("Denver Broncos", "Broncos") == 0.0);
  CHECK(squad_f1("Denver Broncos", "Broncos") == Approx(0.666667).epsilon(1e-5));
  CHECK(squad_exact("the cat sat", "a cat sat on the mat") == 0.0);
  CHECK(squad_f1("the cat sat", "a cat sat on the mat") == Approx(0.666667).epsilon(1e-5));
  CHECK(squad_exact("1,000", "1000") == 1.0);
  CHECK(squad_f1("1,000", "1000") == 1.0);
  CHECK(squad_exact("", "") == 1.0);
  CHECK(squad_f1("", "") == 1.0);
}

TEST_CASE("squad: f1 edge cases", "[scorers][squad]") {
  CHECK(squad_f1("", "something") == 0.0);
  CHECK(squad_f1("the", "") == 1.0);  // both normalise to no tokens
  CHECK(squad_f1("red", "blue") == 0.0);
  // Counter intersection: repeated tokens count up to the smaller multiplicity.
  CHECK(squad_f1("a b b c", "b b b") == Approx(2.0 * (2.0 / 3) * (2.0 / 3) / (4.0 / 3)));
}

TEST_CASE("squad: first-reference and max-over-references adapters", "[scorers][squad]") {
  const std::vector<std::string> references{"Broncos", "Denver Broncos"};
  CHECK(squad_exact_first_reference("Denver Broncos", references) == 0.0);  // lm-eval XQuAD: text[0] only
  CHECK(squad_exact_max_over_references("Denver Broncos", references) == 1.0);
  CHECK(squad_f1_first_reference("Denver Broncos", references) == Approx(2.0 / 3));
  CHECK(squad_f1_max_over_references("Denver Broncos", references) == 1.0);
  CHECK(squad_f1_first_reference("x", {}) == 0.0);
  CHECK(squad_exact_max_over_references("x", {}) == 0.0);
}

// ---------------------------------------------------------------- DROP (lm-eval lm_eval/tasks/drop/utils.py@4e7e0d47)

TEST_CASE("drop: python float parsing and repr", "[scorers][drop]") {
  using namespace gemma::scorers::drop;
  CHECK(is_number("4"));
  CHECK(is_number("-3.5"));
  CHECK(is_number(" 1e3 "));
  CHECK(is_number(".5"));
  CHECK(is_number("5."));
  CHECK(is_number("1_000"));
  CHECK(is_number("NaN"));
  CHECK(is_number("-Infinity"));
  CHECK_FALSE(is_number("1,000"));
  CHECK_FALSE(is_number("four"));
  CHECK_FALSE(is_number(""));
  CHECK_FALSE(is_number("."));
  CHECK_FALSE(is_number("1__0"));
  CHECK_FALSE(is_number("_1"));
  CHECK_FALSE(is_number("1e"));
  CHECK_FALSE(is_number("0x10"));
  CHECK_FALSE(is_number("1-yard"));
  CHECK(is_number("١٢"));                                     // Python reads any Unicode decimal digit: Arabic-Indic 12
  CHECK(python_float_repr(*python_float("१२.५")) == "12.5");  // Devanagari
  CHECK(python_float_repr(4) == "4.0");
  CHECK(python_float_repr(1000) == "1000.0");
  CHECK(python_float_repr(3.5) == "3.5");
  CHECK(python_float_repr(0.1) == "0.1");
  CHECK(python_float_repr(0.0001) == "0.0001");
  CHECK(python_float_repr(0.00001) == "1e-05");
  CHECK(python_float_repr(1.5e-5) == "1.5e-05");
  CHECK(python_float_repr(1e15) == "1000000000000000.0");
  CHECK(python_float_repr(1e16) == "1e+16");
  CHECK(python_float_repr(1.25e100) == "1.25e+100");
  CHECK(python_float_repr(-2.0) == "-2.0");
  CHECK(python_float_repr(-0.0) == "-0.0");
  CHECK(python_float_repr(*python_float("1e400")) == "inf");
  CHECK(python_float_repr(*python_float("nan")) == "nan");
}

TEST_CASE("drop: normalize vectors", "[scorers][drop]") {
  using drop::normalize;
  CHECK(normalize("The 1,000 men.") == "1000.0 men");
  CHECK(normalize("3.50") == "3.5");
  CHECK(normalize("New-York") == "new york");
  CHECK(normalize("A Tale of Two Cities") == "tale of two cities");
  CHECK(normalize("4") == "4.0");
  CHECK(normalize("  --  ") == "");
  CHECK(normalize("$5 million") == "5.0 million");
}

TEST_CASE("drop: answer bags", "[scorers][drop]") {
  const drop::AnswerBags bags = drop::answer_to_bags({"the Titans", "New York Jets"});
  REQUIRE(bags.normalized_spans == std::vector<std::string>{"titans", "new york jets"});
  REQUIRE(bags.token_bags.size() == 2);
  CHECK(bags.token_bags[1] == std::set<std::string>{"new", "york", "jets"});
  CHECK(drop::bag_f1({}, {}) == 1.0);
  CHECK(drop::bag_f1({"a"}, {}) == 0.0);  // precision 0 (nothing shared), recall 1.0: F1 0
  CHECK(drop::bag_f1({"a", "b"}, {"b", "c", "d"}) == Approx(0.4));
}

TEST_CASE("drop: lm-eval get_metrics vectors", "[scorers][drop]") {
  struct Vector {
    std::string prediction;
    std::vector<std::string> gold;
    double em, f1;
  };
  const std::vector<Vector> vectors{
      {"4", {"4"}, 1, 1},
      {"four", {"4"}, 0, 0},
      {"4.0", {"4"}, 1, 1},
      {"the Titans", {"Titans"}, 1, 1},
      {"Jets and Titans", {"Titans", "Jets"}, 0, 0.25},
      {"Titans", {"Titans", "Jets"}, 0, 0.5},
      {"Pittsburgh Steelers", {"Steelers"}, 0, 0.67},
      {"1-yard", {"1 yard"}, 1, 1},
      {"23 yards", {"23"}, 0, 0.67},
      {"", {"5"}, 0, 0},
  };
  for (const Vector& v : vectors) {
    INFO(v.prediction);
    const drop::Scores scores = drop::get_metrics({v.prediction}, v.gold);
    CHECK(scores.exact_match == v.em);
    CHECK(scores.f1 == Approx(v.f1).margin(1e-12));
  }
}

TEST_CASE("drop: number-aware alignment of several spans", "[scorers][drop]") {
  // Two predicted spans against two gold spans: the one-to-one optimum pairs them crosswise.
  const drop::Scores both = drop::get_metrics({"Jets", "Titans"}, {"Titans", "Jets"});
  CHECK(both.exact_match == 1.0);
  CHECK(both.f1 == 1.0);
  // A gold bag with a number scores 0 against a prediction without that number, however many words match.
  CHECK(drop::get_metrics({"7 yards"}, {"8 yards"}).f1 == 0.0);
  CHECK(drop::get_metrics({"yards"}, {"yards"}).f1 == 1.0);
  // One prediction, three golds: only the best-matching gold counts, averaged over 3 slots.
  CHECK(drop::get_metrics({"Titans"}, {"Titans", "Jets", "Colts"}).f1 == Approx(0.33));
}

TEST_CASE("drop: max over golds skips blank golds", "[scorers][drop]") {
  CHECK(drop::max_over_golds("5", {{""}, {"5"}}).exact_match == 1.0);
  const drop::Scores blank_only = drop::max_over_golds("", {{" "}});
  CHECK(blank_only.exact_match == 0.0);  // the blank gold would have matched but is skipped
  CHECK(blank_only.f1 == 0.0);
  const drop::Scores best = drop::max_over_golds("Pittsburgh Steelers", {{"Steelers"}, {"the Pittsburgh Steelers"}});
  CHECK(best.exact_match == 1.0);
  CHECK(best.f1 == 1.0);
}

TEST_CASE("drop: references encoding round-trips and scores", "[scorers][drop]") {
  const std::vector<std::string> spans{"Titans", "Jets \"NY\"", "Zürich"};
  const std::string encoded = drop::encode_gold(spans);
  CHECK(encoded == R"(["Titans","Jets \"NY\"","Zürich"])");
  CHECK(drop::decode_gold(encoded) == spans);
  const std::vector<std::string> references{drop::encode_gold({"Titans", "Jets"}), drop::encode_gold({"Titans"})};
  CHECK(drop::drop_exact_match("Titans", references) == 1.0);
  CHECK(drop::drop_f1("Titans", references) == 1.0);
  CHECK(drop::drop_f1("Jets", references) == 0.5);
  CHECK_THROWS_AS(drop::decode_gold("Titans"), gemma::Error);
  CHECK_THROWS_AS(drop::decode_gold("[1]"), gemma::Error);
}
