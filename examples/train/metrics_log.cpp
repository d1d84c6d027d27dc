#include "metrics_log.h"

#include <filesystem>

#include "core/error.h"

namespace nabla::train {

namespace {

std::string csv_cell(const nlohmann::json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

std::string csv_row(const nlohmann::json& record) {
  std::string row;
  for (const std::string& column : MetricsLog::csv_columns()) {
    if (!row.empty()) row += ',';
    if (record.contains(column)) row += csv_cell(record[column]);
  }
  return row + "\n";
}

// The records of the log at `path` up to `step`, the config record included.
std::vector<nlohmann::json> records_through(const std::string& path, int64_t step) {
  std::ifstream in(path);
  std::vector<nlohmann::json> kept;
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    // A line cut short by a killed process ends the readable log.
    if (record.is_discarded()) break;
    if (record.value("step", int64_t{0}) <= step) kept.push_back(std::move(record));
  }
  return kept;
}

}  // namespace

const std::vector<std::string>& MetricsLog::csv_columns() {
  static const std::vector<std::string> columns = {
      "type",         "epoch",     "step",          "time",           "lr",
      "loss",         "accuracy",  "train_loss",    "train_accuracy", "val_loss",
      "val_accuracy", "test_loss", "test_accuracy", "epoch_time",     "images_per_second"};
  return columns;
}

MetricsLog::MetricsLog(const std::string& path) {
  if (!path.empty()) open(path, std::ios::trunc);
}

MetricsLog MetricsLog::resume(const std::string& path, int64_t step) {
  MetricsLog log;
  if (path.empty()) return log;
  std::vector<nlohmann::json> kept = records_through(path, step);
  log.open(path, std::ios::trunc);
  for (const nlohmann::json& record : kept) log.write(record);
  return log;
}

void MetricsLog::open(const std::string& path, std::ios::openmode mode) {
  std::filesystem::path csv(path);
  NABLA_CHECK(csv.extension() != ".csv", ValueError, "--log: '", path,
              "' names the CSV file; give the JSON lines file (run.jsonl), the CSV goes beside it");
  csv.replace_extension(".csv");
  csv_path_ = csv.string();
  jsonl_.open(path, std::ios::out | mode);
  csv_.open(csv_path_, std::ios::out | mode);
  NABLA_CHECK(jsonl_ && csv_, IOError, "--log: cannot write '", path, "' and '", csv_path_, "'");
  for (size_t i = 0; i < csv_columns().size(); ++i) csv_ << (i ? "," : "") << csv_columns()[i];
  csv_ << "\n";
}

void MetricsLog::write(const nlohmann::json& record) {
  if (!enabled()) return;
  jsonl_ << record.dump() << "\n";
  jsonl_.flush();
  if (record.value("type", "") != "config") {
    csv_ << csv_row(record);
    csv_.flush();
  }
  NABLA_CHECK(jsonl_ && csv_, IOError, "--log: writing '", csv_path_, "' or its JSON lines failed");
}

}  // namespace nabla::train
