#include "progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace nabla::train {

namespace {

constexpr int kBarWidth = 24;

std::string minutes_seconds(double seconds) {
  const long s = std::lround(std::max(seconds, 0.0));
  char text[32];
  std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  return text;
}

}  // namespace

ProgressBar::ProgressBar(int64_t epoch, int64_t epochs, int64_t steps, int64_t first_step,
                         bool terminal)
    : epoch_(epoch), epochs_(epochs), steps_(steps), first_step_(first_step), terminal_(terminal) {
  next_plain_line_ = first_step_ + std::max<int64_t>(steps_ / 10, 1);
}

void ProgressBar::update(int64_t step, int64_t images, double loss, double accuracy) {
  const bool last = step == steps_;
  if (!terminal_ && step < next_plain_line_ && !last) return;
  const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  // Images and time count from where this process started in the epoch (a resumed run starts in
  // the middle).
  const double rate = seconds > 0 ? double(images) / seconds : 0;
  const double eta =
      step > first_step_ ? seconds / double(step - first_step_) * double(steps_ - step) : 0;
  if (terminal_) {
    const int filled = int(kBarWidth * step / std::max<int64_t>(steps_, 1));
    std::string bar(size_t(filled), '=');
    if (filled < kBarWidth) bar += '>' + std::string(size_t(kBarWidth - filled - 1), ' ');
    std::printf("\repoch %ld/%ld [%s] %ld/%ld  %.0f img/s  loss %.4f  acc %.2f%%  eta %s ",
                long(epoch_), long(epochs_), bar.c_str(), long(step), long(steps_), rate, loss,
                accuracy, minutes_seconds(eta).c_str());
  } else {
    std::printf("epoch %ld/%ld step %ld/%ld  %.0f img/s  loss %.4f  acc %.2f%%  eta %s\n",
                long(epoch_), long(epochs_), long(step), long(steps_), rate, loss, accuracy,
                minutes_seconds(eta).c_str());
    next_plain_line_ = step + std::max<int64_t>(steps_ / 10, 1);
  }
  std::fflush(stdout);
}

void ProgressBar::finish() {
  if (terminal_) std::printf("\r\033[K");
}

}  // namespace nabla::train
