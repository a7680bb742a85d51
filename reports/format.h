#pragma once
// Formatting shared by the reporters: JSON numbers and strings, console / Markdown numbers and
// intervals, fixed-width tables. Undefined values are JSON null and "n/a" in text.
#include <string>
#include <vector>

#include "stats/intervals.h"

namespace ipbench {

/// A JSON number with 10 significant digits; null when not finite.
std::string json_number(double v);
/// A quoted, escaped JSON string.
std::string json_string(const std::string& s);
/// {"value": v, "ci_low": l, "ci_high": h}
std::string json_ratio(const RatioInterval& r);

/// `precision` significant digits; "inf", "-inf" or "n/a" when not finite.
std::string fmt(double v, int precision = 4);
/// "[lo, hi]", or "n/a" when either end is not finite.
std::string fmt_interval(double lo, double hi);
/// "value [lo, hi]" with 3 significant digits for the value, or "n/a".
std::string fmt_ratio(const RatioInterval& r);
/// A fixed-width table: the first row is the header, a rule under it.
std::string fixed_width(const std::vector<std::vector<std::string>>& rows);

}  // namespace ipbench
