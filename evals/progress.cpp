#include "evals/progress.h"

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

namespace gemma::evals {
namespace {

constexpr size_t kBarWidth = 20;

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string minutes_seconds(double seconds) {
  const long long whole = std::llround(std::max(0.0, seconds));
  return fmt::format("{:02}:{:02}", whole / 60, whole % 60);
}

std::string bar(size_t done, size_t total) {
  const size_t filled = total == 0 ? kBarWidth : std::min(kBarWidth, done * kBarWidth / total);
  return std::string(filled, '#') + std::string(kBarWidth - filled, '-');
}

}  // namespace

std::string progress_line(const std::string& task, size_t done, size_t total, double elapsed_s, size_t tokens) {
  std::string timing;
  if (done >= total)
    timing = "done in " + minutes_seconds(elapsed_s);
  else if (done == 0 || elapsed_s <= 0)
    timing = "ETA --:--";  // no rate to extrapolate from yet
  else
    timing = "ETA " + minutes_seconds(elapsed_s * static_cast<double>(total - done) / static_cast<double>(done));
  const double tokens_per_s = elapsed_s > 0 ? static_cast<double>(tokens) / elapsed_s : 0.0;
  return fmt::format("{}: {}/{} [{}] {}, {:.0f} tok/s", task, done, total, bar(done, total), timing, tokens_per_s);
}

ProgressBar::ProgressBar(std::string task) : ProgressBar(std::move(task), Options{}) {}

ProgressBar::ProgressBar(std::string task, Options options) : task_(std::move(task)), options_(std::move(options)) {
  if (!options_.clock) options_.clock = steady_seconds;
  terminal_ = options_.terminal.value_or(::isatty(::fileno(options_.out)) == 1);
  started_ = options_.clock();
}

ProgressBar::~ProgressBar() {
  if (line_open_) {  // an interrupted task: do not leave the next output on the bar's line
    std::fputc('\n', options_.out);
    std::fflush(options_.out);
  }
}

void ProgressBar::advance(size_t requests_done, size_t requests_total, size_t tokens) {
  const double now = options_.clock();
  // A task may send the engine more than one batch of requests; each starts its own pass.
  const bool had_pass = last_total_ != 0 || last_done_ != 0;
  if (had_pass && (requests_done < last_done_ || requests_total != last_total_)) {
    if (line_open_) std::fputc('\n', options_.out);
    line_open_ = false;
    started_ = now;
    last_shown_.reset();
    finished_shown_ = false;
  }
  last_done_ = requests_done;
  last_total_ = requests_total;

  const bool finished = requests_done >= requests_total;
  if (finished && finished_shown_) return;
  if (!due(now, finished)) return;
  show(progress_line(task_, requests_done, requests_total, now - started_, tokens), finished);
  last_shown_ = now;
}

bool ProgressBar::due(double now, bool finished) const {
  if (finished || !last_shown_) return true;
  const double interval = terminal_ ? options_.redraw_interval_s : options_.plain_interval_s;
  return now - *last_shown_ >= interval;
}

void ProgressBar::show(const std::string& line, bool finished) {
  if (terminal_) {
    std::fprintf(options_.out, "\r%s\x1b[K", line.c_str());  // redraw in place, clear what is left
    if (finished) std::fputc('\n', options_.out);
    line_open_ = !finished;
  } else {
    std::fprintf(options_.out, "%s\n", line.c_str());
  }
  finished_shown_ = finished;
  std::fflush(options_.out);
}

}  // namespace gemma::evals
