#pragma once
// Options structs: one declaration, three uses (read from config, document, resolve defaults).
//
// Every solver, operator, prior, noise design and metric has one `Options` struct whose fields carry
// in-class defaults and which lists its fields once:
//
//   struct DpsOptions {
//     double zeta = 0.3;   ///< guidance step size (official `scale`)
//     template <class F> void fields(F&& f) { f("zeta", zeta, "guidance step size, > 0"); }
//     void validate() const;   // throws Error naming field, value and rule
//   };
//
// read_options<O>(section) fills an O from a config section, validates it and records the resolved
// values; describe_options<O>() lists name/type/default/help for `ipbench list` and the docs.
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/error.h"

namespace ipbench {

struct OptionDoc {
  std::string name;
  std::string type;
  std::string default_value;
  std::string help;
};

inline std::string option_type(const bool&) { return "bool"; }
inline std::string option_type(const int&) { return "int"; }
inline std::string option_type(const int64_t&) { return "int"; }
inline std::string option_type(const double&) { return "float"; }
inline std::string option_type(const std::string&) { return "string"; }
inline std::string option_type(const std::vector<std::string>&) { return "list"; }
inline std::string option_type(const std::vector<double>&) { return "float list"; }
inline std::string option_type(const std::vector<int64_t>&) { return "int list"; }

inline std::string option_value(bool v) { return v ? "true" : "false"; }
inline std::string option_value(const std::string& v) { return v; }
/// The shortest decimal text (10 to 17 digits) that reads back as the same double, so that resolved
/// configs and model files round-trip exactly.
inline std::string option_value(double v) {
  std::string text;
  for (int digits = 10; digits <= 17; ++digits) {
    std::ostringstream os;
    os.precision(digits);
    os << v;
    text = os.str();
    if (std::strtod(text.c_str(), nullptr) == v) break;
  }
  return text;
}
template <class T>
std::string option_value(const T& v) {
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}
template <class T>
std::string option_value(const std::vector<T>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + option_value(v[i]);
  return out;
}

/// Fills an Options struct from `section`, calls validate() and records the resolved values.
/// A validate() failure is rethrown with the section's name and origin prepended.
template <class O>
O read_options(const Section& section) {
  O o;
  o.fields([&](const char* key, auto& value, const char*) {
    section.read(key, value);
    section.resolve(key, option_value(value));
  });
  try {
    o.validate();
  } catch (const Error& e) {
    throw Error(str_cat("config [", section.name(), "] (", section.origin(), "): ", e.what()));
  }
  return o;
}

/// name / type / default / help of every field of a default-constructed O.
template <class O>
std::vector<OptionDoc> describe_options() {
  O o;
  std::vector<OptionDoc> docs;
  o.fields([&](const char* key, auto& value, const char* help) {
    docs.push_back({key, option_type(value), option_value(value), help});
  });
  return docs;
}

inline bool option_finite(double v) { return v - v == 0; }  // false for inf and nan
inline bool option_finite(const std::vector<double>& v) {
  for (double x : v)
    if (!option_finite(x)) return false;
  return true;
}
template <class T>
bool option_finite(const T&) {
  return true;
}

/// Building blocks for validate(): messages in the form
/// "DpsOptions::zeta = -0.1. Violated: zeta > 0". A refused non-finite number (set from C++: the
/// config reader refuses inf and nan itself) is named as such, "DpsOptions::zeta = inf. Violated: zeta
/// must be finite (zeta > 0)", since a rule like "zeta > 0" reads as if inf satisfied it.
template <class T>
void check_option(bool ok, const char* owner, const char* field, const T& value, const char* rule) {
  if (ok) return;
  if (!option_finite(value))
    throw Error(str_cat(owner, "::", field, " = ", option_value(value), ". Violated: ", field, " must be finite (",
                        rule, ")"));
  throw Error(str_cat(owner, "::", field, " = ", option_value(value), ". Violated: ", rule));
}

}  // namespace ipbench
