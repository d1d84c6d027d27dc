// Metric logs: one JSON object per line (the run's config first, then a record per step and per
// epoch), and the same records as CSV beside it, for spreadsheets and tools/plot.py.
#pragma once

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nabla::train {

class MetricsLog {
 public:
  // Logs nothing.
  MetricsLog() = default;
  // Starts `path` afresh (and its .csv sibling).
  explicit MetricsLog(const std::string& path);
  // Continues the log of a run resumed at `step`: records of later steps, which the resumed run
  // will make again, are dropped, so the log reads as if the run had never stopped.
  static MetricsLog resume(const std::string& path, int64_t step);

  bool enabled() const { return jsonl_.is_open(); }
  const std::string& csv_path() const { return csv_path_; }
  // Writes and flushes one record; a record's "type" is config, step, epoch, resume or end.
  void write(const nlohmann::json& record);

  // The CSV columns, in order; a record's other keys go to the JSON lines only.
  static const std::vector<std::string>& csv_columns();

 private:
  void open(const std::string& path, std::ios::openmode mode);

  std::ofstream jsonl_, csv_;
  std::string csv_path_;
};

}  // namespace nabla::train
