#pragma once
// Pixel-wise correlation of paired samples: the PN-vs-RR diagnostic of the antithetic paper
// (Table 1, section 3.1), on stored reconstructions or unconditional samples.
//
// Pairs of one (cell, item), samples indexed s = group * K + member:
//  * K >= 2 (coupled designs: antithetic = "PN" pairs): every within-group pair (g*K + i, g*K + j), i < j;
//  * K = 1 (independent draws, "RR" pairs): consecutive groups (2h, 2h + 1), h = 0, 1, ...
// For each pair (a, b) of flattened images:
//  * standard:    Pearson correlation of a and b over their C*H*W pixels;
//  * centralized: Pearson correlation of a - m and b - m, m = the pixel-wise mean of ALL samples of
//                 that (cell, item) (the paper's per-dataset / per-prompt mean; for DPS the mean
//                 reconstruction of that measurement), which removes the structure every sample shares.
// A pair with a failed sample (not ok) or a constant image (zero variance) is skipped.
// Summary per cell: mean and standard deviation over pairs (the paper reports "mean (sd)") and a
// Student-t interval for the mean correlation over pairs (pairs from different groups are independent).
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "stats/intervals.h"

namespace ipbench {

/// Pearson correlation of the rows of a and b ([P, D], any floating dtype), computed in float64
/// with centered two-pass sums: [P] float64 on the CPU; NaN where a row has zero variance.
torch::Tensor pearson_rows(const torch::Tensor& a, const torch::Tensor& b);

struct PairCorrelations {
  std::vector<double> standard, centralized;  ///< one value per usable pair
};

/// Pair correlations of one (cell, item): samples [S, ...] in sample order (s = group * K + member),
/// ok [S] bool (false = failed sample, excluded from pairs and from the centering mean).
/// TORCH_CHECK: S a multiple of K, K >= 1, ok of length S.
PairCorrelations item_pair_correlations(const torch::Tensor& samples, const torch::Tensor& ok, int64_t K);

struct CorrelationStat {
  double mean = kNaN, sd = kNaN;
  Interval ci;  ///< t interval for the mean over pairs
};

struct CellCorrelation {
  std::string cell, op, solver, design;
  int64_t group_size = 1;
  std::string pairs_kind;  ///< "coupled" (within groups, K >= 2) or "independent" (consecutive groups)
  int64_t pairs = 0;
  CorrelationStat standard, centralized;
};

/// The pair correlations of one cell pooled over its items. `items`: item -> sample index
/// (group * K + member) -> image [C, H, W]; whole groups only, in sample order (a group with a missing
/// sample is left out); `ok(item, sample)` says whether that sample's record is ok (it may throw Error
/// for a sample without a record).
PairCorrelations pool_cell_correlations(const std::map<int64_t, std::map<int64_t, torch::Tensor>>& items, int64_t K,
                                        const std::function<bool(int64_t item, int64_t sample)>& ok);

/// Mean, sd and interval of the pooled pair correlations of one cell (over all its items).
CellCorrelation summarize_correlations(const PairCorrelations& pooled, double confidence = 0.95);

}  // namespace ipbench
