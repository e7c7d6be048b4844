#include "scorers/vqa_accuracy.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "common/error.h"
#include "common/python_float.h"
#include "common/python_text.h"
#include "common/utf8.h"

namespace gemma::scorers {
namespace {

// The EvalAI contraction table (identical in GT-Vision-Lab/VQA vqaEval.py and lmms-eval's
// vqa_eval_metric.py). Keys are matched after lower-casing, so the capitalised ones ("Im") never fire.
const std::map<std::string, std::string>& contractions() {
  static const std::map<std::string, std::string> table = {
      {"aint", "ain't"},
      {"arent", "aren't"},
      {"cant", "can't"},
      {"couldve", "could've"},
      {"couldnt", "couldn't"},
      {"couldn'tve", "couldn't've"},
      {"couldnt've", "couldn't've"},
      {"didnt", "didn't"},
      {"doesnt", "doesn't"},
      {"dont", "don't"},
      {"hadnt", "hadn't"},
      {"hadnt've", "hadn't've"},
      {"hadn'tve", "hadn't've"},
      {"hasnt", "hasn't"},
      {"havent", "haven't"},
      {"hed", "he'd"},
      {"hed've", "he'd've"},
      {"he'dve", "he'd've"},
      {"hes", "he's"},
      {"howd", "how'd"},
      {"howll", "how'll"},
      {"hows", "how's"},
      {"Id've", "I'd've"},
      {"I'dve", "I'd've"},
      {"Im", "I'm"},
      {"Ive", "I've"},
      {"isnt", "isn't"},
      {"itd", "it'd"},
      {"itd've", "it'd've"},
      {"it'dve", "it'd've"},
      {"itll", "it'll"},
      {"let's", "let's"},
      {"maam", "ma'am"},
      {"mightnt", "mightn't"},
      {"mightnt've", "mightn't've"},
      {"mightn'tve", "mightn't've"},
      {"mightve", "might've"},
      {"mustnt", "mustn't"},
      {"mustve", "must've"},
      {"neednt", "needn't"},
      {"notve", "not've"},
      {"oclock", "o'clock"},
      {"oughtnt", "oughtn't"},
      {"ow's'at", "'ow's'at"},
      {"'ows'at", "'ow's'at"},
      {"'ow'sat", "'ow's'at"},
      {"shant", "shan't"},
      {"shed've", "she'd've"},
      {"she'dve", "she'd've"},
      {"she's", "she's"},
      {"shouldve", "should've"},
      {"shouldnt", "shouldn't"},
      {"shouldnt've", "shouldn't've"},
      {"shouldn'tve", "shouldn't've"},
      {"somebody'd", "somebodyd"},
      {"somebodyd've", "somebody'd've"},
      {"somebody'dve", "somebody'd've"},
      {"somebodyll", "somebody'll"},
      {"somebodys", "somebody's"},
      {"someoned", "someone'd"},
      {"someoned've", "someone'd've"},
      {"someone'dve", "someone'd've"},
      {"someonell", "someone'll"},
      {"someones", "someone's"},
      {"somethingd", "something'd"},
      {"somethingd've", "something'd've"},
      {"something'dve", "something'd've"},
      {"somethingll", "something'll"},
      {"thats", "that's"},
      {"thered", "there'd"},
      {"thered've", "there'd've"},
      {"there'dve", "there'd've"},
      {"therere", "there're"},
      {"theres", "there's"},
      {"theyd", "they'd"},
      {"theyd've", "they'd've"},
      {"they'dve", "they'd've"},
      {"theyll", "they'll"},
      {"theyre", "they're"},
      {"theyve", "they've"},
      {"twas", "'twas"},
      {"wasnt", "wasn't"},
      {"wed've", "we'd've"},
      {"we'dve", "we'd've"},
      {"weve", "we've"},
      {"werent", "weren't"},
      {"whatll", "what'll"},
      {"whatre", "what're"},
      {"whats", "what's"},
      {"whatve", "what've"},
      {"whens", "when's"},
      {"whered", "where'd"},
      {"wheres", "where's"},
      {"whereve", "where've"},
      {"whod", "who'd"},
      {"whod've", "who'd've"},
      {"who'dve", "who'd've"},
      {"wholl", "who'll"},
      {"whos", "who's"},
      {"whove", "who've"},
      {"whyll", "why'll"},
      {"whyre", "why're"},
      {"whys", "why's"},
      {"wont", "won't"},
      {"wouldve", "would've"},
      {"wouldnt", "wouldn't"},
      {"wouldnt've", "wouldn't've"},
      {"wouldn'tve", "wouldn't've"},
      {"yall", "y'all"},
      {"yall'll", "y'all'll"},
      {"y'allll", "y'all'll"},
      {"yall'd've", "y'all'd've"},
      {"y'alld've", "y'all'd've"},
      {"y'all'dve", "y'all'd've"},
      {"youd", "you'd"},
      {"youd've", "you'd've"},
      {"you'dve", "you'd've"},
      {"youll", "you'll"},
      {"youre", "you're"},
      {"youve", "you've"},
  };
  return table;
}

const std::map<std::string, std::string>& number_words() {
  static const std::map<std::string, std::string> table = {
      {"none", "0"}, {"zero", "0"}, {"one", "1"},   {"two", "2"},   {"three", "3"}, {"four", "4"},
      {"five", "5"}, {"six", "6"},  {"seven", "7"}, {"eight", "8"}, {"nine", "9"},  {"ten", "10"}};
  return table;
}

constexpr char kPunctuation[] = {';',  '/', '[', ']', '"', '{', '}', '(', ')', '=', '+',
                                 '\\', '_', '-', '>', '<', '@', '`', ',', '?', '!'};

// Python's \d in a str pattern: any Unicode decimal digit (category Nd).
bool is_decimal(char32_t c) { return unicode_decimal_value(c).has_value(); }

struct CodePoint {
  char32_t value;
  size_t offset, length;  // bytes in the UTF-8 text
};

std::vector<CodePoint> decode(std::string_view text) {
  std::vector<CodePoint> out;
  for (size_t i = 0; i < text.size();) {
    const Utf8Char c = decode_utf8_at(text, i);
    out.push_back({c.code_point, i, c.length});
    i += c.length;
  }
  return out;
}

// re.search of the comma pattern: a digit, one comma (official) or a run of commas (lmms), a digit.
bool has_digit_comma_digit(const std::vector<CodePoint>& text, CommaRule rule) {
  for (size_t i = 0; i + 2 < text.size(); ++i) {
    if (!is_decimal(text[i].value) || text[i + 1].value != ',') continue;
    size_t j = i + 1;
    if (rule == CommaRule::Lmms)
      while (j < text.size() && text[j].value == ',') ++j;
    else
      ++j;
    if (j < text.size() && is_decimal(text[j].value)) return true;
  }
  return false;
}

// "\n" and "\t" to spaces, then Python's strip().
std::string clean_whitespace(std::string_view text) {
  return python_strip(replace_all(replace_all(std::string(text), "\n", " "), "\t", " "));
}

std::string process(std::string_view text, CommaRule rule) {
  return vqa_process_digit_article(vqa_process_punctuation(text, rule));
}

double leave_one_out(const std::string& prediction, const std::vector<std::string>& answers) {
  double total = 0.0;
  for (size_t i = 0; i < answers.size(); ++i) {
    size_t matching = 0;
    for (size_t j = 0; j < answers.size(); ++j)
      if (j != i && answers[j] == prediction) ++matching;
    total += std::min(1.0, static_cast<double>(matching) / 3.0);
  }
  return total / static_cast<double>(answers.size());
}

// The double nearest numerator / denominator, ties to even: Python's int / int.
double correctly_rounded_quotient(unsigned __int128 numerator, unsigned __int128 denominator) {
  if (numerator == 0) return 0.0;
  using u128 = unsigned __int128;
  const u128 low = u128(1) << 52, high = u128(1) << 53;  // a double's 53 significant bits
  int exponent = 0;
  while (numerator / denominator >= high) {
    denominator <<= 1;
    ++exponent;
  }
  while (numerator / denominator < low) {
    numerator <<= 1;
    --exponent;
  }
  u128 quotient = numerator / denominator;
  const u128 twice_remainder = 2 * (numerator % denominator);
  if (twice_remainder > denominator || (twice_remainder == denominator && (quotient & 1))) ++quotient;
  return std::ldexp(static_cast<double>(quotient), exponent);
}

// lmms-eval's vqav2_process_results averages the per-answer values with statistics.mean, which sums
// them exactly (as fractions) and rounds once; summing the doubles in order, as vqaEval.py's
// sum(gtAcc) / len(gtAcc) does, can land one ulp away: 2 of 10 answers matching at positions 3 and 4
// give 0.6 there and 0.6000000000000001 in order. Each value min(1, k / 3) is an integer multiple of
// 2^-54 (1/3 as a double is 6004799503160661 * 2^-54), so integers carry the exact sum. lmms-eval's
// textvqa and ok_vqa process_results average with statistics.mean too.
double leave_one_out_exact_mean(const std::string& prediction, const std::vector<std::string>& answers) {
  unsigned __int128 sum = 0;  // in units of 2^-54
  for (size_t i = 0; i < answers.size(); ++i) {
    size_t matching = 0;
    for (size_t j = 0; j < answers.size(); ++j)
      if (j != i && answers[j] == prediction) ++matching;
    const double value = std::min(1.0, static_cast<double>(matching) / 3.0);
    sum += static_cast<unsigned __int128>(std::ldexp(value, 54));  // exact: see above
  }
  return correctly_rounded_quotient(sum, static_cast<unsigned __int128>(answers.size()) << 54);
}

}  // namespace

std::string vqa_variant_name(VqaVariant variant) {
  switch (variant) {
    case VqaVariant::LmmsVqav2:
      return "lmms_vqav2";
    case VqaVariant::LmmsTextvqa:
      return "lmms_textvqa";
    case VqaVariant::Official:
      return "official";
  }
  return "official";
}

std::optional<VqaVariant> parse_vqa_variant(std::string_view name) {
  if (name == "lmms_vqav2") return VqaVariant::LmmsVqav2;
  if (name == "lmms_textvqa" || name == "lmms_okvqa") return VqaVariant::LmmsTextvqa;
  if (name == "official") return VqaVariant::Official;
  return std::nullopt;
}

std::string vqa_process_punctuation(std::string_view text, CommaRule rule) {
  // The punctuation characters are ASCII, so the substring tests and replacements work on bytes.
  const std::string in(text);
  const bool comma = has_digit_comma_digit(decode(in), rule);
  std::string out = in;
  for (char p : kPunctuation) {
    const std::string mark(1, p);
    const bool delete_it =
        comma || in.find(mark + " ") != std::string::npos || in.find(" " + mark) != std::string::npos;
    out = replace_all(out, mark, delete_it ? "" : " ");
  }
  // PERIOD_STRIP.sub("", out, re.UNICODE): a "." not followed by a digit, at most 32 of them.
  const std::vector<CodePoint> points = decode(out);
  std::string stripped;
  size_t removed = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    const bool digit_next = i + 1 < points.size() && is_decimal(points[i + 1].value);
    if (points[i].value == '.' && !digit_next && removed < 32) {
      ++removed;
      continue;
    }
    stripped.append(out, points[i].offset, points[i].length);
  }
  return stripped;
}

std::string vqa_process_digit_article(std::string_view text) {
  std::vector<std::string> words;
  for (std::string& word : python_split(python_lower(text))) {
    auto number = number_words().find(word);
    if (number != number_words().end()) word = number->second;
    if (word == "a" || word == "an" || word == "the") continue;
    words.push_back(std::move(word));
  }
  std::string out;
  for (std::string& word : words) {
    auto contraction = contractions().find(word);
    if (!out.empty()) out += ' ';
    out += contraction != contractions().end() ? contraction->second : word;
  }
  return out;
}

std::string vqa_normalize_answer(std::string_view text) {
  // word_tokenize: lower, drop "," and "?", "'s" -> " 's", strip.
  std::string item = python_lower(text);
  item = replace_all(replace_all(replace_all(item, ",", ""), "?", ""), "'s", " 's");
  item = clean_whitespace(python_strip(item));
  return process(item, CommaRule::Lmms);
}

double vqa_accuracy(std::string_view prediction, const std::vector<std::string>& answers, VqaVariant variant) {
  if (answers.empty()) fail("vqa accuracy: no answers to score the prediction against");
  std::vector<std::string> gold;
  std::string predicted;
  if (variant == VqaVariant::LmmsTextvqa) {
    predicted = vqa_normalize_answer(prediction);
    for (const std::string& answer : answers) gold.push_back(vqa_normalize_answer(answer));
    return leave_one_out_exact_mean(predicted, gold);  // textvqa/ok_vqa process_results: statistics.mean
  }
  const CommaRule rule = variant == VqaVariant::Official ? CommaRule::Official : CommaRule::Lmms;
  predicted = variant == VqaVariant::Official ? clean_whitespace(prediction) : vqa_normalize_answer(prediction);
  for (const std::string& answer : answers) gold.push_back(clean_whitespace(answer));
  if (std::set<std::string>(gold.begin(), gold.end()).size() > 1) {
    for (std::string& answer : gold) answer = process(answer, rule);
    predicted = process(predicted, rule);
  }
  // vqaEval.py: float(sum(gtAcc)) / len(gtAcc); lmms-eval vqav2_process_results: statistics.mean(gtAcc).
  return variant == VqaVariant::Official ? leave_one_out(predicted, gold) : leave_one_out_exact_mean(predicted, gold);
}

}  // namespace gemma::scorers
