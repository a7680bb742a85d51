#pragma once
// Record: one reconstructed sample, the unit every statistic is computed from.
//
// The runner makes records, stats aggregate them, reports render the aggregates. A numerical failure
// of one sample is data: its status is not "ok" and its metrics are NaN.
#include <cstdint>
#include <map>
#include <string>

namespace ipbench {

struct Record {
  std::string cell;       ///< "<operator>/<solver>/<design>", unique per cell of the plan
  std::string op;         ///< operator label
  std::string solver;     ///< solver label
  std::string design;     ///< noise design label
  int64_t group_size = 1; ///< K: members per coupled group in this design
  int64_t item = 0;       ///< dataset index of the ground-truth image
  int64_t group = 0;      ///< coupled group within (cell, item)
  int64_t member = 0;     ///< member within the group, 0..K-1
  std::map<std::string, double> metrics;  ///< metric name -> value (NaN when the sample failed)
  int64_t nfe = 0;        ///< network function evaluations spent on this sample
  double seconds = 0.0;   ///< wall time of its batch divided by the batch's samples
  std::string status = "ok";  ///< ok | non_finite | diverged | error:<text>
  /// Which stage of a run to a target precision made it (harness/two_stage.h): 1 the pilot, 2 the
  /// planned groups; 0 in a fixed-size run (records.csv then has no `stage` column).
  int stage = 0;
};

}  // namespace ipbench
