#include "core/config.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/suggest.h"

namespace ipbench {

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split_list(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream is(s);
  while (std::getline(is, part, sep)) {
    part = trim(part);
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
const ConfigEntry* Section::find(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &entries_list_[it->second].second;
}

void Section::set(const std::string& key, const std::string& value, const std::string& origin) {
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    entries_list_[it->second].second = ConfigEntry{value, origin, false};
    return;
  }
  entries_[key] = entries_list_.size();
  entries_list_.push_back({key, ConfigEntry{value, origin, false}});
}

void Section::resolve(const std::string& key, const std::string& value) const {
  if (has(key)) return;
  auto* self = const_cast<Section*>(this);
  self->set(key, value, "(default)");
  self->entries_list_.back().second.used = true;
}

const ConfigEntry* Section::use(const std::string& key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  ConfigEntry& e = entries_list_[it->second].second;
  e.used = true;
  return &e;
}

void Section::bad_value(const std::string& key, const ConfigEntry& e, const char* expected) const {
  throw Error(str_cat("config ", e.origin, ": [", name_, "] ", key, " = '", e.value, "' is not ", expected));
}

void Section::read(const std::string& key, bool& out) const {
  const ConfigEntry* e = use(key);
  if (!e) return;
  const std::string& v = e->value;
  if (v == "true" || v == "1" || v == "yes" || v == "on") out = true;
  else if (v == "false" || v == "0" || v == "no" || v == "off") out = false;
  else bad_value(key, *e, "a boolean (true/false)");
}

void Section::read(const std::string& key, int64_t& out) const {
  const ConfigEntry* e = use(key);
  if (!e) return;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(e->value.c_str(), &end, 10);
  if (e->value.empty() || *end != '\0' || errno == ERANGE) bad_value(key, *e, "an integer");
  out = v;
}

void Section::read(const std::string& key, int& out) const {
  int64_t v = out;
  read(key, v);
  if (v < INT32_MIN || v > INT32_MAX) bad_value(key, *find(key), "a 32-bit integer");
  out = static_cast<int>(v);
}

void Section::read(const std::string& key, double& out) const {
  const ConfigEntry* e = use(key);
  if (!e) return;
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(e->value.c_str(), &end);
  if (e->value.empty() || *end != '\0' || errno == ERANGE) bad_value(key, *e, "a number");
  out = v;
}

void Section::read(const std::string& key, std::string& out) const {
  if (const ConfigEntry* e = use(key)) out = e->value;
}

void Section::read(const std::string& key, std::vector<std::string>& out) const {
  if (const ConfigEntry* e = use(key)) out = split_list(e->value);
}

void Section::read(const std::string& key, std::vector<double>& out) const {
  const ConfigEntry* e = use(key);
  if (!e) return;
  std::vector<double> v;
  for (const auto& part : split_list(e->value)) {
    char* end = nullptr;
    double d = std::strtod(part.c_str(), &end);
    if (*end != '\0') bad_value(key, *e, "a comma-separated list of numbers");
    v.push_back(d);
  }
  out = v;
}

void Section::read(const std::string& key, std::vector<int64_t>& out) const {
  const ConfigEntry* e = use(key);
  if (!e) return;
  std::vector<int64_t> v;
  for (const auto& part : split_list(e->value)) {
    char* end = nullptr;
    long long d = std::strtoll(part.c_str(), &end, 10);
    if (*end != '\0') bad_value(key, *e, "a comma-separated list of integers");
    v.push_back(d);
  }
  out = v;
}

// ---------------------------------------------------------------------------------------------
Config Config::from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(str_cat("config file '", path, "' cannot be opened"));
  std::stringstream ss;
  ss << in.rdbuf();
  return from_string(ss.str(), path);
}

Config Config::from_string(const std::string& text, const std::string& origin) {
  Config cfg;
  cfg.origin_ = origin;
  std::istringstream is(text);
  std::string line;
  int lineno = 0;
  Section* current = nullptr;
  while (std::getline(is, line)) {
    ++lineno;
    const std::string where = str_cat(origin, ":", lineno);
    // Comments start at ';' or '#' (also after a value).
    auto c = line.find_first_of(";#");
    if (c != std::string::npos) line = line.substr(0, c);
    line = trim(line);
    if (line.empty()) continue;
    if (line.front() == '[') {
      require(line.back() == ']', "config ", where, ": section header '", line, "' lacks a closing ']'");
      std::string name = trim(line.substr(1, line.size() - 2));
      require(!name.empty(), "config ", where, ": empty section name");
      require(!cfg.has_section(name), "config ", where, ": section [", name, "] appears twice");
      current = &cfg.section_mut(name, where);
      continue;
    }
    auto eq = line.find('=');
    require(eq != std::string::npos, "config ", where, ": expected 'key = value' or '[section]', got '", line, "'");
    require(current != nullptr, "config ", where, ": key before any [section]");
    std::string key = trim(line.substr(0, eq));
    require(!key.empty(), "config ", where, ": empty key");
    require(!current->has(key), "config ", where, ": key '", key, "' repeated in [", current->name(), "]");
    current->set(key, trim(line.substr(eq + 1)), where);
  }
  return cfg;
}

void Config::set(const std::string& assignment) {
  auto eq = assignment.find('=');
  auto dot = assignment.rfind('.', eq);
  require(eq != std::string::npos && dot != std::string::npos && dot > 0 && dot + 1 < eq,
          "--set '", assignment, "': expected section.key=value (for example benchmark.seed=3)");
  std::string sec = trim(assignment.substr(0, dot));
  std::string key = trim(assignment.substr(dot + 1, eq - dot - 1));
  section_mut(sec, "--set").set(key, trim(assignment.substr(eq + 1)), "--set " + assignment);
}

bool Config::has_section(const std::string& name) const {
  for (const auto& s : sections_)
    if (s->name() == name) return true;
  return false;
}

Section& Config::section_mut(const std::string& name, const std::string& origin) {
  for (auto& s : sections_)
    if (s->name() == name) return *s;
  sections_.push_back(std::make_unique<Section>(name, origin));
  return *sections_.back();
}

const Section& Config::section(const std::string& name) const {
  Section& s = const_cast<Config*>(this)->section_mut(name, "(default)");
  s.mark_requested();
  return s;
}

const Section* Config::find_section(const std::string& name) const {
  for (const auto& s : sections_)
    if (s->name() == name) return s.get();
  return nullptr;
}

void Config::ignore_section(const std::string& name) const {
  for (auto& s : sections_)
    if (s->name() == name) {
      s->mark_requested();
      std::string ignored;
      for (const auto& [key, e] : s->entries()) s->read(key, ignored);
    }
}

std::vector<std::string> Config::section_names() const {
  std::vector<std::string> out;
  for (const auto& s : sections_) out.push_back(s->name());
  return out;
}

void Config::check_all_used() const {
  std::ostringstream msg;
  int n = 0;
  std::vector<std::string> read_sections;
  for (const auto& s : sections_)
    if (s->requested()) read_sections.push_back(s->name());
  for (const auto& s : sections_) {
    if (!s->requested()) {
      msg << "\n  " << s->origin() << ": unknown section [" << s->name() << "] (nothing in this benchmark reads it)"
          << did_you_mean(s->name(), read_sections);
      ++n;
      continue;
    }
    std::vector<std::string> known;  // the keys the section's reader asked for (set or resolved defaults)
    for (const auto& [key, e] : s->entries())
      if (e.used) known.push_back(key);
    for (const auto& [key, e] : s->entries())
      if (!e.used) {
        msg << "\n  " << e.origin << ": unknown key '" << key << "' in [" << s->name() << "]" << did_you_mean(key, known);
        ++n;
      }
  }
  if (n > 0)
    throw Error(str_cat("config ", origin_, ": ", n, " unknown setting", n > 1 ? "s" : "", msg.str(),
                        "\n  (`ipbench list` prints every component and its options)"));
}

std::string Config::to_ini() const {
  std::ostringstream os;
  for (const auto& s : sections_) {
    if (s->entries().empty()) continue;
    os << "[" << s->name() << "]\n";
    for (const auto& [key, e] : s->entries()) os << key << " = " << e.value << "\n";
    os << "\n";
  }
  return os.str();
}

}  // namespace ipbench
