// The per-epoch progress display: a bar redrawn in place on a terminal, a plain line every tenth
// of the epoch otherwise (a log file or a pipe gets no carriage returns).
#pragma once

#include <chrono>
#include <cstdint>

namespace nabla::train {

class ProgressBar {
 public:
  ProgressBar(int64_t epoch, int64_t epochs, int64_t steps, int64_t first_step, bool terminal);
  // After step `step` (counting from 1) of the epoch, with the epoch's running figures.
  void update(int64_t step, int64_t images, double loss, double accuracy);
  // Clears the bar so that the epoch's summary line takes its place.
  void finish();

 private:
  using Clock = std::chrono::steady_clock;
  int64_t epoch_, epochs_, steps_, first_step_;
  bool terminal_;
  Clock::time_point start_ = Clock::now();
  int64_t next_plain_line_ = 0;
};

}  // namespace nabla::train
