// Number, string and table formatting shared by the reporters (reports/format.h).
#include "reports/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace ipbench {

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string json_ratio(const RatioInterval& r) {
  return "{\"value\": " + json_number(r.value) + ", \"ci_low\": " + json_number(r.low) +
         ", \"ci_high\": " + json_number(r.high) + "}";
}

std::string fmt(double v, int precision) {
  if (!std::isfinite(v)) return std::isinf(v) ? (v > 0 ? "inf" : "-inf") : "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*g", precision, v);
  return buf;
}

std::string fmt_interval(double lo, double hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return "n/a";
  return "[" + fmt(lo) + ", " + fmt(hi) + "]";
}

std::string fmt_ratio(const RatioInterval& r) {
  if (!std::isfinite(r.value)) return "n/a";
  return fmt(r.value, 3) + " " + fmt_interval(r.low, r.high);
}

std::string fixed_width(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  std::ostringstream os;
  for (size_t k = 0; k < rows.size(); ++k) {
    for (size_t i = 0; i < rows[k].size(); ++i) {
      os << rows[k][i] << std::string(width[i] - rows[k][i].size(), ' ');
      if (i + 1 < rows[k].size()) os << "  ";
    }
    os << "\n";
    if (k == 0) {
      size_t total = 0;
      for (auto w : width) total += w + 2;
      os << std::string(total - 2, '-') << "\n";
    }
  }
  return os.str();
}

}  // namespace ipbench
