#include "reports/markdown.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "reports/model_card.h"
#include "reports/results_json.h"

namespace gemma::reports {
using nlohmann::ordered_json;

namespace {

using Row = std::vector<std::string>;

// ---- pytablewriter's MarkdownTableWriter, the way lm-eval's make_table uses it ----

// Columns are measured in characters; ↑ ↓ ± are East-Asian "ambiguous" and pytablewriter counts them as 1.
size_t display_width(const std::string& text) {
  size_t width = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++width;  // count UTF-8 lead bytes only
  return width;
}

bool is_blank(const std::string& cell) { return cell.find_first_not_of(" \t") == std::string::npos; }

// A cell typepy reads as an integer or a real number ("5", "0.4232", "-1.5", "nan").
bool is_number(const std::string& cell) {
  std::string body = cell;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) body.erase(0, 1);
  if (body == "nan" || body == "inf") return true;
  size_t digits = 0, i = 0;
  for (; i < body.size() && std::isdigit(static_cast<unsigned char>(body[i])); ++i) ++digits;
  if (i < body.size() && body[i] == '.')
    for (++i; i < body.size() && std::isdigit(static_cast<unsigned char>(body[i])); ++i) ++digits;
  return digits > 0 && i == body.size();
}

// pytablewriter right-aligns a column whose non-blank cells are all numbers (blank cells do not count),
// and left-aligns any column holding text ("N/A" makes the Stderr column text).
bool is_numeric_column(const std::vector<Row>& rows, size_t column) {
  bool any_number = false;
  for (const auto& row : rows) {
    if (is_blank(row[column])) continue;
    if (!is_number(row[column])) return false;
    any_number = true;
  }
  return any_number;
}

std::string pad_right(const std::string& text, size_t width) {
  return text + std::string(width - std::min(width, display_width(text)), ' ');
}
std::string pad_left(const std::string& text, size_t width) {
  return std::string(width - std::min(width, display_width(text)), ' ') + text;
}
// Python's "{:^w}": the odd space goes to the right ("     Tasks      " in lm-eval's testdata).
std::string centre(const std::string& text, size_t width) {
  size_t spare = width - std::min(width, display_width(text));
  return std::string(spare / 2, ' ') + text + std::string(spare - spare / 2, ' ');
}

std::string escape_bars(const std::string& cell) {
  std::string escaped;
  for (char c : cell) escaped += c == '|' ? std::string("\\|") : std::string(1, c);
  return escaped;
}

std::string markdown_table(const Row& headers, std::vector<Row> rows) {
  for (auto& row : rows)
    for (auto& cell : row) cell = escape_bars(cell);
  std::vector<size_t> widths(headers.size());
  std::vector<bool> right_aligned(headers.size());
  for (size_t c = 0; c < headers.size(); ++c) {
    widths[c] = std::max<size_t>(3, display_width(headers[c]));  // MarkdownTableWriter's min_column_width
    for (const auto& row : rows) widths[c] = std::max(widths[c], display_width(row[c]));
    right_aligned[c] = is_numeric_column(rows, c);
  }
  std::string header_line = "|", separator_line = "|";
  for (size_t c = 0; c < headers.size(); ++c) {
    header_line += centre(headers[c], widths[c]) + "|";
    separator_line += (right_aligned[c] ? std::string(widths[c] - 1, '-') + ":" : std::string(widths[c], '-')) + "|";
  }
  std::string table = header_line + "\n" + separator_line + "\n";
  for (const auto& row : rows) {
    table += "|";
    for (size_t c = 0; c < headers.size(); ++c)
      table += (right_aligned[c] ? pad_left(row[c], widths[c]) : pad_right(row[c], widths[c])) + "|";
    table += "\n";
  }
  return table;
}

// ---- lm-eval's make_table (lm_eval/utils.py) over our results.json ----

std::string plain_text(const ordered_json& value) {
  if (value.is_null()) return "None";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

std::string four_decimals(const ordered_json& value) {
  return value.is_number() ? fmt::format("{:.4f}", value.get<double>()) : plain_text(value);
}

// "metric,filter" -> {metric, filter}
std::pair<std::string, std::string> split_key(const std::string& key) {
  size_t comma = key.find(',');
  if (comma == std::string::npos) return {key, ""};
  return {key.substr(0, comma), key.substr(comma + 1)};
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// An entry's metric items sorted by key, as make_table does (so "acc,none" precedes "acc_norm,none").
std::vector<std::pair<std::string, ordered_json>> sorted_metric_items(const ordered_json& entry) {
  std::vector<std::pair<std::string, ordered_json>> items;
  for (const auto& item : entry.items())
    if (item.key() != "alias") items.emplace_back(item.key(), item.value());
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return items;
}

std::string direction_arrow(const ordered_json& higher_is_better, const std::string& metric) {
  if (!higher_is_better.is_object() || !higher_is_better.contains(metric)) return "";
  return higher_is_better[metric].get<bool>() ? "↑" : "↓";
}

std::vector<Row> make_table_rows(const ordered_json& results, const std::string& column) {
  std::vector<Row> rows;
  for (const auto& item : results[column].items()) {
    const std::string& name = item.key();
    const ordered_json& entry = item.value();
    std::string shown = entry.value("alias", name);
    std::string version = results["versions"].contains(name) ? plain_text(results["versions"][name]) : "N/A";
    const std::string shots = results["n-shot"].contains(name) ? plain_text(results["n-shot"][name]) : "";
    const ordered_json higher_is_better = results["higher_is_better"].value(name, ordered_json::object());
    for (const auto& [key, value] : sorted_metric_items(entry)) {
      auto [metric, filter] = split_key(key);
      if (ends_with(metric, "_stderr")) continue;
      const std::string stderr_key = metric + "_stderr," + filter;
      Row row = {shown, version, filter, shots, metric, direction_arrow(higher_is_better, metric), four_decimals(value),
                 "",    ""};
      if (entry.contains(stderr_key)) {
        row[7] = "±";
        row[8] = four_decimals(entry[stderr_key]);  // a number, or "N/A"
      }
      rows.push_back(std::move(row));
      shown.clear();  // name and version only on a task's first row
      version.clear();
    }
  }
  return rows;
}

std::string make_table(const ordered_json& results, const std::string& column) {
  const std::string first = column == "groups" ? "Groups" : "Tasks";
  const Row headers = {first, "Version", "Filter", "n-shot", "Metric", "", "Value", "", "Stderr"};
  return markdown_table(headers, make_table_rows(results, column));
}

std::string config_value(const ordered_json& object, const char* key) {
  return object.is_object() && object.contains(key) ? plain_text(object[key]) : "None";
}

// lm-eval's line above the table ("hf (pretrained=…), gen_kwargs: (None), limit: None, num_fewshot: 5,
// batch_size: 1") from what the CLI records in RunResult::config.
std::string run_header_line(const ordered_json& config) {
  // The model as loaded (config.model_details; config.model in older files), else lm-eval's model_args.
  const ordered_json model = model_details(config);
  std::string model_args;
  if (!model.empty())
    model_args = fmt::format("model={}, dtype={}, device={}", config_value(model, "model"),
                             config_value(model, "dtype"), config_value(model, "device"));
  else if (config.is_object() && config.contains("model_args") && !config["model_args"].is_null())
    model_args = plain_text(config["model_args"]);
  else if (config.is_object() && config.contains("model") && !config["model"].is_null())
    model_args = "model=" + plain_text(config["model"]);
  const bool model_has_batch = model.contains("batch_size");
  const std::string batch_size =
      model_has_batch ? config_value(model, "batch_size") : config_value(config, "batch_size");
  if (config.is_object() && config.contains("run_name") && config["run_name"].is_string())
    model_args += ", run: " + config["run_name"].get<std::string>();
  return fmt::format("gemma-eval ({}), profile: {}, limit: {}, num_fewshot: {}, batch_size: {}", model_args,
                     config_value(config, "profile"), config_value(config, "limit"), config_value(config, "shots"),
                     batch_size);
}

std::string aggregation_lines(const evals::RunResult& run, const ordered_json& results) {
  std::map<std::string, std::string> rule_of;
  for (const auto& group : run.groups) rule_of[group.group] = group.aggregation;
  std::string lines;
  for (const auto& item : results["groups"].items()) {
    const std::string& rule = rule_of[item.key()];
    lines += fmt::format("{}: {}\n", item.key(), rule.empty() ? "aggregation not recorded" : rule);
  }
  return lines;
}

// ---- model card comparison ----

int decimals_of(std::string_view number) {
  size_t dot = number.find('.');
  return dot == std::string_view::npos ? 0 : static_cast<int>(number.size() - dot - 1);
}

// "+1.2", "−1.1" (U+2212, as in the comparison tables of docs/cli.md), and "0.0" when it rounds to zero.
std::string signed_delta(double delta, int decimals) {
  const std::string magnitude = fmt::format("{:.{}f}", std::abs(delta), decimals);
  if (std::strtod(magnitude.c_str(), nullptr) == 0.0) return magnitude;
  return (delta > 0 ? "+" : "−") + magnitude;
}

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

bool is_instruction_tuned_run(const ordered_json& config) {
  return config.is_object() && config.value("profile", std::string()) == "it";
}

std::string run_shots_text(const ordered_json& results, const ModelCardRow& card) {
  const std::string task(card.task);
  std::string shots = results["n-shot"].contains(task) ? plain_text(results["n-shot"][task]) : "mixed";
  if (card.shots >= 0 && shots != std::to_string(card.shots)) shots += fmt::format(" (card: {})", card.card_setting);
  return shots;
}

Row comparison_row(const ordered_json& results, const ModelCardRow& card, std::string_view published,
                   const std::string& key, const ordered_json& entry) {
  const auto [metric, filter] = split_key(key);
  const int decimals = std::max(1, decimals_of(published));
  const double ours = entry[key].get<double>() * card.scale;
  std::string ours_text = fmt::format("{:.{}f}", ours, decimals);
  const ordered_json& stderr_value = entry.value(metric + "_stderr," + filter, ordered_json());
  if (stderr_value.is_number())
    ours_text += fmt::format(" ± {:.{}f}", stderr_value.get<double>() * card.scale, decimals);
  const double card_value = std::strtod(std::string(published).c_str(), nullptr);
  return {fmt::format("{} ({})", card.benchmark, card.task),
          run_shots_text(results, card),
          filter == "none" ? metric : key,
          ours_text,
          std::string(published),
          signed_delta(ours - card_value, decimals)};
}

std::vector<Row> comparison_rows(const ordered_json& results, const std::string& size, CardVariant variant) {
  std::vector<Row> rows;
  for (const auto& card : model_card_rows()) {
    std::string_view published = published_value(card, size);
    if (card.variant != variant || card.task.empty() || published.empty()) continue;
    const std::string task(card.task);
    if (!results["results"].contains(task)) continue;
    const ordered_json& entry = results["results"][task];
    for (const auto& [key, value] : sorted_metric_items(entry))
      if (split_key(key).first == card.metric && value.is_number())
        rows.push_back(comparison_row(results, card, published, key, entry));
  }
  return rows;
}

}  // namespace

std::string truncation_note(const evals::RunResult& run) {
  size_t total = 0;
  std::string per_task;
  for (const auto& task : run.tasks) {
    if (task.truncated_requests == 0) continue;
    total += task.truncated_requests;
    per_task += fmt::format("{}{} {}", per_task.empty() ? "" : ", ", task.task, task.truncated_requests);
  }
  if (total == 0) return "";
  std::string window;
  const ordered_json model = model_details(run.config);
  if (model.contains("max_length") && model["max_length"].is_number_integer())
    window = fmt::format(" of {} tokens", model["max_length"].get<int64_t>());
  return fmt::format(
      "{} request(s) had a prompt longer than the context window{} and were cut from the left, "
      "as lm-eval does ({}); their scores are not those of the whole prompt.",
      total, window, per_task);
}

std::string results_table(const evals::RunResult& run) {
  const ordered_json results = results_json(run);
  std::string text = run_header_line(run.config) + "\n" + make_table(results, "results");
  if (!results["groups"].empty()) text += "\n" + make_table(results, "groups") + "\n" + aggregation_lines(run, results);
  const std::string truncated = truncation_note(run);
  if (!truncated.empty()) text += "\nTruncated: " + truncated + "\n";
  return text;
}

std::string model_card_table(const evals::RunResult& run, const std::string& model_size) {
  if (std::find(kModelSizes.begin(), kModelSizes.end(), model_size) == kModelSizes.end()) return "";
  const bool it = is_instruction_tuned_run(run.config);
  const std::string title =
      fmt::format("Gemma 3 {} model card, {} table (google/gemma-3-{}-{} README, Evaluation)", upper(model_size),
                  it ? "instruction-tuned" : "pre-trained", model_size, it ? "it" : "pt");
  const CardVariant variant = it ? CardVariant::InstructionTuned : CardVariant::Pretrained;
  const auto rows = comparison_rows(results_json(run), model_size, variant);
  if (rows.empty()) return title + ": no task that ran has a published number for this size.\n";

  std::string table = title + ", in the card's units:\n\n";
  table += "| Benchmark | n-shot | Metric | gemma-eval | model card | Δ |\n";
  table += "|---|---:|---|---:|---:|---:|\n";
  for (const auto& row : rows)
    table += fmt::format("| {} | {} | {} | {} | {} | {} |\n", row[0], row[1], row[2], row[3], row[4], row[5]);
  return table;
}

}  // namespace gemma::reports
