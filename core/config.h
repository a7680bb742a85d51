#pragma once
// INI configuration with line numbers and strict key accounting.
//
// A Config is an ordered list of sections `[name]` holding `key = value` entries (`;` or `#` start a
// comment). Every entry remembers its file and line. Components read their keys through Section::read,
// which marks them used; Config::check_all_used() then throws an Error naming every key nobody read
// (a typo is an error, never silently ignored). `--set section.key=value` overrides go through set().
//
// Boost.Program_options' config parser drops line numbers, so the file syntax is parsed here; the
// command line itself uses Boost.Program_options (cli/).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ipbench {

struct ConfigEntry {
  std::string value;
  std::string origin;  ///< "file.ini:12" or "--set"
  bool used = false;
};

class Section {
 public:
  Section(std::string name, std::string origin) : name_(std::move(name)), origin_(std::move(origin)) {}

  const std::string& name() const { return name_; }
  /// Where the section header was written ("file.ini:3"), or "(default)" when created implicitly.
  const std::string& origin() const { return origin_; }
  /// True once some component asked Config::section() for this section.
  bool requested() const { return requested_; }
  void mark_requested() const { requested_ = true; }
  bool has(const std::string& key) const { return entries_.count(key) > 0; }
  const ConfigEntry* find(const std::string& key) const;
  void set(const std::string& key, const std::string& value, const std::string& origin);

  /// Reads `key` into `out` when present (marking it used); leaves `out` unchanged otherwise.
  /// Throws Error naming section, key, value, origin and the expected type when the value does not parse;
  /// numbers must be finite ("inf", "nan" are refused: "must be finite").
  void read(const std::string& key, bool& out) const;
  void read(const std::string& key, int& out) const;
  void read(const std::string& key, int64_t& out) const;
  void read(const std::string& key, double& out) const;
  void read(const std::string& key, std::string& out) const;
  void read(const std::string& key, std::vector<std::string>& out) const;  ///< comma separated
  void read(const std::string& key, std::vector<double>& out) const;       ///< comma separated
  void read(const std::string& key, std::vector<int64_t>& out) const;      ///< comma separated

  /// Records the value a component resolved for `key` when the file did not set it, so that
  /// Config::to_ini() writes the fully resolved configuration (origin "(default)").
  void resolve(const std::string& key, const std::string& value) const;

  /// Entries in insertion order.
  const std::vector<std::pair<std::string, ConfigEntry>>& entries() const { return entries_list_; }

 private:
  const ConfigEntry* use(const std::string& key) const;
  [[noreturn]] void bad_value(const std::string& key, const ConfigEntry& e, const char* expected) const;
  [[noreturn]] void not_finite(const std::string& key, const ConfigEntry& e) const;

  std::string name_;
  std::string origin_;
  mutable bool requested_ = false;
  std::map<std::string, size_t> entries_;
  mutable std::vector<std::pair<std::string, ConfigEntry>> entries_list_;
};

class Config {
 public:
  /// Parses an INI file; throws Error (naming the file and line) on I/O or syntax errors, and when
  /// `path` is a directory, is empty, or has no [section] (nothing would be configured).
  static Config from_file(const std::string& path);
  /// Parses INI text; `origin` names it in messages. A leading UTF-8 byte order mark is skipped.
  static Config from_string(const std::string& text, const std::string& origin);

  /// Applies one `section.key=value` override (the section is created if needed).
  void set(const std::string& assignment);

  bool has_section(const std::string& name) const;
  /// The named section; an empty one is created when absent (reads then keep their defaults).
  const Section& section(const std::string& name) const;
  /// The named section without marking it requested; nullptr when absent.
  const Section* find_section(const std::string& name) const;
  /// Section names in order of first appearance.
  std::vector<std::string> section_names() const;

  /// Marks a section and all its keys as read without reading them: for a component that the file
  /// configures but the benchmark does not select (the caller says so to the user).
  void ignore_section(const std::string& name) const;

  /// Throws Error listing every section nobody asked for and every key nobody read, with origins.
  void check_all_used() const;

  /// The configuration as INI text (every section and key, values as given).
  std::string to_ini() const;

  const std::string& origin() const { return origin_; }

 private:
  Section& section_mut(const std::string& name, const std::string& origin);
  std::string origin_;
  mutable std::vector<std::unique_ptr<Section>> sections_;
};

/// Trims ASCII whitespace on both ends.
std::string trim(const std::string& s);
/// `text` without a leading UTF-8 byte order mark (EF BB BF), which some editors write.
std::string strip_bom(const std::string& text);
/// Splits on `sep`, trimming each part and dropping empty parts.
std::vector<std::string> split_list(const std::string& s, char sep = ',');

}  // namespace ipbench
