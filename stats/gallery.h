#pragma once
// Statistics of gallery metrics (metrics/gallery.h): intervals across groups and items, and design
// comparisons at the same gallery size K.
//
// A gallery metric has one value per coupled group; the runner stores it in the record of every member
// (docs/formats.md), so the group mean of summarize() IS the gallery value and each cell's `ci`
// (groups within the given items, Welch-Satterthwaite) and `population` (t over item means) are the
// gallery metric's intervals across groups and items. (The member-level diagnostics rho and in-run
// efficiency of such a column are meaningless: its members are equal by construction.)
//
// Design comparisons: for the same (operator, solver) and the same K, two designs' members have the same
// marginal law (every member is N(0, I) noise through the same sampler; paper Prop. 3.2), so a difference
// of a gallery metric between them is the coupling's effect. Designs are keyed by their label, so their
// noise is independent; the items (and their measurements) are shared. compare_designs() pairs units on
// (item, group) with stats/paired.h: the given-items interval of the difference is then the Welch
// combination of the two cells' noise (unit pairs are independent), and the `population` interval is a
// t interval over per-item mean differences, paired by item (which removes the between-item variance
// both cells carry). Designs with different K are never compared (a gallery of 2 and one of 5 differ in
// what they measure, not only in the coupling).
#include <string>
#include <vector>

#include "core/record.h"
#include "stats/paired.h"
#include "stats/summary.h"

namespace ipbench {

struct DesignComparison {
  std::string op, solver, metric, design_a, design_b;
  int64_t K = 0;
  int lower_better = -1;  ///< 1 lower is better, 0 higher is better, -1 unknown
  PairedDifference paired;
  Verdict verdict = Verdict::undefined;
  /// (mean_a - mean_b) / mean_b: the relative change of A over B (the paper's "+49.7% L2").
  double relative() const { return paired.difference.mean / paired.mean_b; }
};

/// Every (operator, solver), every metric of `metrics` present in the records, and every pair of designs
/// with the same group size K >= 2: A - B with A the earlier cell in record order, except that a design
/// named in options.baseline_design (one label or a comma-separated list, e.g. "iid2, iid3") is B when
/// the other is not. Throws Error on inconsistent records.
std::vector<DesignComparison> compare_designs(const std::vector<Record>& records, const std::vector<std::string>& metrics,
                                              const SummaryOptions& options);

}  // namespace ipbench
