// Ranking cells per operator and comparing each with the leader (stats/leaderboard.h).
#include "stats/leaderboard.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/options.h"

namespace ipbench {

Interval welch_difference(const Interval& a, const Interval& b, double confidence) {
  const double va = a.se * a.se, vb = b.se * b.se;
  Interval d;
  if (std::isfinite(va) && std::isfinite(vb) && a.df > 0 && b.df > 0)
    d = satterthwaite_interval(a.mean - b.mean, va + vb, va * va / a.df + vb * vb / b.df, 1.0, a.df + b.df, confidence);
  d.mean = a.mean - b.mean;
  d.units = a.units + b.units;
  return d;
}

const MetricSummary* find_metric(const CellSummary& cell, const std::string& name) {
  for (const MetricSummary& m : cell.metrics)
    if (m.name == name) return &m;
  return nullptr;
}

namespace {

double primary_mean(const LeaderboardEntry& e, const std::string& primary) {
  const MetricSummary* m = find_metric(e.cell, primary);
  return m ? m->ci.mean : kNaN;
}

// The run's paired comparison of the entry's and the leader's solvers on the primary metric, oriented
// as entry - leader; nullptr when the run holds none.
const PairedComparison* paired_of(const BenchmarkSummary& s, const CellSummary& e, const CellSummary& leader,
                                  const std::string& primary, bool& flip) {
  for (const PairedComparison& c : s.comparisons) {
    if (c.op != e.op || c.design != e.design || c.design != leader.design || c.metric != primary) continue;
    if (c.solver_a == e.solver && c.solver_b == leader.solver) {
      flip = false;
      return &c;
    }
    if (c.solver_a == leader.solver && c.solver_b == e.solver) {
      flip = true;
      return &c;
    }
  }
  return nullptr;
}

}  // namespace

Leaderboard build_leaderboard(const std::vector<std::pair<std::string, BenchmarkSummary>>& runs,
                              const std::string& primary, bool lower_better, const BoardAssignments& boards) {
  Leaderboard board;
  board.primary = primary;
  board.lower_better = lower_better;
  board.confidence = runs.empty() ? 0.95 : runs.front().second.confidence;
  std::map<std::string, size_t> op_index;
  std::map<std::string, const BenchmarkSummary*> owner;  // run name -> its summary (valid during this call)
  bool any = false;
  for (const auto& [name, summary] : runs) {
    require(owner.emplace(name, &summary).second, "leaderboard: two runs are named '", name, "'");
    for (const CellSummary& c : summary.cells) {
      for (const MetricSummary& m : c.metrics)
        if (std::find(board.metrics.begin(), board.metrics.end(), m.name) == board.metrics.end())
          board.metrics.push_back(m.name);
      any = any || find_metric(c, primary) != nullptr;
      const auto assigned = boards.find({name, c.op});
      const BoardAssignment where = assigned == boards.end() ? BoardAssignment{c.op, ""} : assigned->second;
      auto it = op_index.find(where.title);
      if (it == op_index.end()) {
        it = op_index.emplace(where.title, board.operators.size()).first;
        board.operators.push_back({c.op, where.title, where.note, {}});
      }
      LeaderboardEntry e;
      e.run = name;
      e.cell = c;
      // A partial headline (some items unscored) is not comparable with complete cells: n/a.
      for (MetricSummary& m : e.cell.metrics)
        if (m.partial) m.ci.mean = m.ci.low = m.ci.high = kNaN;
      board.operators[it->second].entries.push_back(e);
    }
  }
  require(any, "report: no cell holds the metric '", primary, "' (metrics: ", option_value(board.metrics), ")");
  for (OperatorBoard& ob : board.operators) {
    std::stable_sort(ob.entries.begin(), ob.entries.end(), [&](const LeaderboardEntry& a, const LeaderboardEntry& b) {
      const double x = primary_mean(a, primary), y = primary_mean(b, primary);
      if (!std::isfinite(x)) return false;
      if (!std::isfinite(y)) return true;
      return lower_better ? x < y : x > y;
    });
    const LeaderboardEntry& leader = ob.entries.front();
    for (size_t r = 0; r < ob.entries.size(); ++r) {
      LeaderboardEntry& e = ob.entries[r];
      e.rank = static_cast<int>(r) + 1;
      if (r == 0) {
        e.standing = "leader";
        continue;
      }
      bool flip = false;
      // Paired only when both cells share run, design and hence noise keys (plan.h: noise key = seed,
      // design label, item); across designs or runs the estimators are independent: Welch.
      const bool shared_noise = e.run == leader.run && e.cell.design == leader.cell.design;
      const PairedComparison* p = shared_noise ? paired_of(*owner.at(e.run), e.cell, leader.cell, primary, flip)
                                               : nullptr;
      if (p) {
        e.paired = true;
        e.vs_leader = p->paired.difference;
        if (flip) {
          e.vs_leader.mean = -e.vs_leader.mean;
          std::swap(e.vs_leader.low, e.vs_leader.high);
          e.vs_leader.low = -e.vs_leader.low;
          e.vs_leader.high = -e.vs_leader.high;
        }
      } else {
        const MetricSummary *me = find_metric(e.cell, primary), *ml = find_metric(leader.cell, primary);
        if (me && ml) e.vs_leader = welch_difference(me->ci, ml->ci, board.confidence);
      }
      const bool worse = lower_better ? e.vs_leader.low > 0 : e.vs_leader.high < 0;
      e.standing = worse ? "behind" : "tied";
    }
  }
  return board;
}

}  // namespace ipbench
