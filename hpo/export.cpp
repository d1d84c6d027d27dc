// CSV and JSON export of trials.
#include "hpo/export.h"

#include <iomanip>
#include <set>
#include <sstream>

namespace nabla::hpo {

namespace {

std::string csv_cell(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string number_cell(double v) {
  std::ostringstream os;
  os << std::setprecision(17) << v;
  return os.str();
}

std::string json_cell(const nlohmann::json& j) {
  return j.is_string() ? j.get<std::string>() : j.dump();
}

}  // namespace

void write_trials_csv(const StudyInfo& study, std::span<const TrialPtr> trials, std::ostream& out) {
  std::set<std::string> params, attrs;
  for (const auto& t : trials) {
    for (const auto& [k, v] : t->params) params.insert(k);
    for (const auto& [k, v] : t->user_attrs.items()) attrs.insert(k);
  }
  const size_t objectives = study.directions.size();
  out << "number,state";
  if (objectives == 1)
    out << ",value";
  else
    for (size_t i = 0; i < objectives; ++i) out << ",values_" << i;
  out << ",datetime_start,datetime_complete,duration_s";
  for (const auto& p : params) out << ',' << csv_cell("params_" + p);
  for (const auto& a : attrs) out << ',' << csv_cell("user_attrs_" + a);
  out << '\n';
  for (const auto& t : trials) {
    out << t->number << ',' << name(t->state);
    for (size_t i = 0; i < objectives; ++i)
      out << ',' << (i < t->values.size() ? number_cell(t->values[i]) : "");
    out << ',' << (t->started ? number_cell(to_seconds(*t->started)) : "") << ','
        << (t->completed ? number_cell(to_seconds(*t->completed)) : "") << ',';
    if (t->started && t->completed)
      out << number_cell(std::chrono::duration<double>(*t->completed - *t->started).count());
    for (const auto& p : params) {
      auto it = t->params.find(p);
      out << ',' << (it == t->params.end() ? "" : csv_cell(to_string(it->second)));
    }
    for (const auto& a : attrs)
      out << ',' << (t->user_attrs.contains(a) ? csv_cell(json_cell(t->user_attrs[a])) : "");
    out << '\n';
  }
}

nlohmann::json trials_to_json(const StudyInfo& study, std::span<const TrialPtr> trials) {
  nlohmann::json directions = nlohmann::json::array();
  for (Direction d : study.directions) directions.push_back(name(d));
  nlohmann::json all = nlohmann::json::array();
  for (const auto& t : trials) all.push_back(to_json(*t));
  return {{"study", study.name},
          {"directions", directions},
          {"user_attrs", study.user_attrs},
          {"trials", all}};
}

}  // namespace nabla::hpo
