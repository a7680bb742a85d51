#pragma once
// Leaderboards (`ipbench report`, docs/reports.md): the cells of one or more runs ranked per operator
// by a primary metric, each compared with the operator's leader.
//
// Entries are the cells (one per run, operator, solver, design). Per operator they are sorted by the
// primary metric's mean (`ci`), best first by the metric's direction; entries without a mean go last.
// Each entry after the first gets its difference to the leader (entry - leader) with an interval:
//  * paired (common random numbers) when both cells share run, design and so noise keys: the run's own
//    paired comparison (stats/paired.h); on a board that mixes designs, an entry of another design
//    than the leader's is compared with the leader itself (never with the best of its own design);
//  * otherwise Welch: mean_e - mean_l, se = sqrt(se_e^2 + se_l^2), Welch-Satterthwaite
//    df = se^4 / (se_e^4/df_e + se_l^4/df_l), a Student-t interval: the two estimators are independent.
// A metric whose `ci` is partial (MetricSummary::partial: items with fewer than 2 complete groups) has
// its mean and interval set to NaN in the entry (n/a, ranked last).
// Standing: "leader"; "behind" when the interval lies entirely on the worse side of 0; "tied" otherwise
// (also when no interval can be formed).
#include <map>
#include <string>
#include <vector>

#include "stats/intervals.h"
#include "stats/summary.h"

namespace ipbench {

/// Welch interval for the difference a - b of two independent estimators (see above); NaN fields when
/// either se or df is undefined.
Interval welch_difference(const Interval& a, const Interval& b, double confidence = 0.95);

struct LeaderboardEntry {
  std::string run;  ///< the run's name (its folder)
  CellSummary cell;                   ///< the cell's statistics (a copy: the board owns its data)
  int rank = 0;                       ///< 1-based within the operator
  std::string standing;               ///< leader | behind | tied
  Interval vs_leader;                 ///< entry - leader on the primary metric (undefined for the leader)
  bool paired = false;                ///< vs_leader is a paired (common random numbers) interval
};

struct OperatorBoard {
  std::string op;
  std::string title;  ///< the board's heading: op, or op and its runs when the operator has several boards
  std::string note;   ///< why the board is separate (the keys that differ from the operator's first board)
  std::vector<LeaderboardEntry> entries;  ///< ranked
};

struct Leaderboard {
  std::string primary;     ///< the ranking metric
  bool lower_better = false;
  double confidence = 0.95;
  std::vector<std::string> metrics;  ///< every metric of the cells, in first-seen order
  std::vector<OperatorBoard> operators;  ///< in order of first appearance
};

/// Which board a run's cells of one operator go on when runs measured different problems
/// (reports/leaderboard_files decides from the runs' configs): (run name, operator) -> {title, note}.
/// Cells of pairs missing here go on the board titled by their operator.
struct BoardAssignment {
  std::string title, note;
};
using BoardAssignments = std::map<std::pair<std::string, std::string>, BoardAssignment>;

/// `runs`: (name, summary) pairs with distinct names, all summarized at one confidence. `lower_better`: the primary
/// metric's direction. Throws Error when no cell holds the primary metric. One board per operator, or per
/// distinct title of `boards`, in order of first appearance.
Leaderboard build_leaderboard(const std::vector<std::pair<std::string, BenchmarkSummary>>& runs,
                              const std::string& primary, bool lower_better, const BoardAssignments& boards = {});

/// The metric summary `name` of a cell, or nullptr.
const MetricSummary* find_metric(const CellSummary& cell, const std::string& name);

}  // namespace ipbench
