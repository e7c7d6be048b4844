#pragma once
// A progress display for one task's requests, fed by the engine (EngineProgress):
//   mmlu_anatomy: 120/540 [####----------------] ETA 01:23, 5321 tok/s
// On a terminal the line is redrawn in place; anywhere else (a log file, CI) it is printed as plain
// lines: at the first update, then at most every 5 s, and once at the end, so logs stay short.
// The CLI's --no-progress simply creates none.
#include <cstdio>
#include <functional>
#include <optional>
#include <string>

#include "evals/engine.h"

namespace gemma::evals {

// "task: done/total [bar] ETA mm:ss, N tok/s"; when done == total, "done in mm:ss" replaces the ETA.
// `elapsed_s` is the time since the requests started, `tokens` the tokens processed in that time.
std::string progress_line(const std::string& task, size_t done, size_t total, double elapsed_s, size_t tokens);

class ProgressBar : public EngineProgress {
 public:
  using Clock = std::function<double()>;  // monotonic seconds; tests pass a fake

  struct Options {
    std::FILE* out = stderr;
    Clock clock;                     // empty = std::chrono::steady_clock
    std::optional<bool> terminal;    // empty = isatty(out)
    double plain_interval_s = 5.0;   // least time between two plain lines
    double redraw_interval_s = 0.1;  // least time between two terminal redraws
  };

  explicit ProgressBar(std::string task);
  ProgressBar(std::string task, Options options);
  ~ProgressBar() override;
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void advance(size_t requests_done, size_t requests_total, size_t tokens) override;

 private:
  bool due(double now, bool finished) const;
  void show(const std::string& line, bool finished);

  std::string task_;
  Options options_;
  bool terminal_;
  double started_;  // when the current pass over the requests began
  std::optional<double> last_shown_;
  size_t last_done_ = 0, last_total_ = 0;
  bool finished_shown_ = false;  // the end of the current pass is already on screen
  bool line_open_ = false;       // a terminal line without its newline yet
};

}  // namespace gemma::evals
