#include "stats/correlation.h"

#include <algorithm>
#include <cmath>

namespace ipbench {

torch::Tensor pearson_rows(const torch::Tensor& a, const torch::Tensor& b) {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(a.dim() == 2 && a.sizes() == b.sizes(), "pearson_rows: a ", a.sizes(), " and b ", b.sizes(),
              " must be equal [P, D]");
  const auto x = a.to(torch::kCPU, torch::kDouble), y = b.to(torch::kCPU, torch::kDouble);
  const auto dx = x - x.mean(1, true), dy = y - y.mean(1, true);
  const auto sxy = (dx * dy).sum(1), sxx = (dx * dx).sum(1), syy = (dy * dy).sum(1);
  const auto denom = torch::sqrt(sxx * syy);
  return torch::where(denom > 0, sxy / denom, torch::full_like(denom, kNaN));
}

double debias_centralized(double r, double n_other, int64_t K) {
  if (!std::isfinite(r) || !(n_other >= 1.0)) return kNaN;
  const double k1 = K >= 2 ? static_cast<double>(K - 1) : 0.0;
  return (n_other * r + r - 1.0) / (n_other + k1 * (1.0 - r));
}

PairCorrelations item_pair_correlations(const torch::Tensor& samples, const torch::Tensor& ok, int64_t K) {
  torch::NoGradGuard no_grad;
  const int64_t S = samples.size(0);
  TORCH_CHECK(K >= 1 && S % K == 0, "item_pair_correlations: ", S, " samples are not whole groups of K = ", K);
  TORCH_CHECK(ok.dim() == 1 && ok.size(0) == S, "item_pair_correlations: ok must be [", S, "]");
  const auto flat = samples.reshape({S, -1}).to(torch::kCPU, torch::kDouble);
  const auto okc = ok.to(torch::kCPU, torch::kBool);
  // Blocks: a coupled group (K >= 2) or an independent pair (2h, 2h + 1) (K = 1); pairs lie within
  // a block, and a pair's centre is the mean of the ok samples OUTSIDE its block.
  const int64_t block = K >= 2 ? K : 2;
  std::vector<int64_t> first, second, block_of;
  for (int64_t g = 0; g + block <= S; g += block)
    for (int64_t i = 0; i < block; ++i)
      for (int64_t j = i + 1; j < block; ++j) {
        first.push_back(g + i);
        second.push_back(g + j);
        block_of.push_back(g / block);
      }
  PairCorrelations out;
  const int64_t n_ok = okc.sum().item<int64_t>();
  if (first.empty() || n_ok == 0) return out;
  const auto ia = torch::tensor(first, torch::kLong), ib = torch::tensor(second, torch::kLong);
  const auto keep = okc.index_select(0, ia).logical_and(okc.index_select(0, ib));
  const auto okd = okc.to(torch::kDouble).unsqueeze(1);
  const auto ok_sum = (flat * okd).sum(0, true);
  const int64_t blocks = S / block;
  const auto block_sum = (flat * okd).slice(0, 0, blocks * block).reshape({blocks, block, -1}).sum(1);
  const auto block_ok = okc.slice(0, 0, blocks * block).reshape({blocks, block}).sum(1);
  const auto ib_block = torch::tensor(block_of, torch::kLong);
  const auto n_other = (n_ok - block_ok.index_select(0, ib_block)).to(torch::kDouble);
  const auto center = (ok_sum - block_sum.index_select(0, ib_block)) / n_other.clamp_min(1.0).unsqueeze(1);
  const auto a = flat.index_select(0, ia), b = flat.index_select(0, ib);
  const auto standard = pearson_rows(a, b), centralized = pearson_rows(a - center, b - center);
  const auto keep_acc = keep.accessor<bool, 1>();
  const auto n_other_acc = n_other.accessor<double, 1>();
  for (int64_t p = 0; p < keep.size(0); ++p) {
    if (!keep_acc[p]) continue;
    const double s = standard[p].item<double>();
    const double c = debias_centralized(centralized[p].item<double>(), n_other_acc[p], K);
    if (std::isfinite(s)) out.standard.push_back(s);
    if (std::isfinite(c)) out.centralized.push_back(c);
  }
  return out;
}

namespace {

CorrelationStat correlation_stat(const std::vector<double>& values, double confidence) {
  CorrelationStat stat;
  stat.mean = mean(values);
  const double var = sample_variance(values);
  stat.sd = std::isfinite(var) ? std::sqrt(var) : kNaN;
  stat.ci = t_interval(values, confidence);
  return stat;
}

}  // namespace

CellCorrelation summarize_correlations(const PairCorrelations& pooled, double confidence) {
  CellCorrelation out;
  out.pairs = static_cast<int64_t>(pooled.standard.size());
  out.standard = correlation_stat(pooled.standard, confidence);
  out.centralized = correlation_stat(pooled.centralized, confidence);
  return out;
}

PairCorrelations pool_cell_correlations(const std::map<int64_t, std::map<int64_t, torch::Tensor>>& items, int64_t K,
                                        const std::function<bool(int64_t item, int64_t sample)>& ok) {
  PairCorrelations pooled;
  for (const auto& [item, samples] : items) {
    if (samples.empty()) continue;
    std::vector<torch::Tensor> images;
    std::vector<bool> status;
    const int64_t last = samples.rbegin()->first;
    for (int64_t g = 0; g * K <= last; ++g) {
      bool complete = true;
      for (int64_t k = 0; k < K; ++k) complete &= samples.count(g * K + k) > 0;
      if (!complete) continue;
      for (int64_t k = 0; k < K; ++k) {
        images.push_back(samples.at(g * K + k));
        status.push_back(ok(item, g * K + k));
      }
    }
    if (images.empty()) continue;
    auto mask = torch::zeros({static_cast<int64_t>(status.size())}, torch::kBool);
    for (size_t i = 0; i < status.size(); ++i) mask[static_cast<int64_t>(i)] = static_cast<bool>(status[i]);
    const auto pairs = item_pair_correlations(torch::stack(images), mask, K);
    pooled.standard.insert(pooled.standard.end(), pairs.standard.begin(), pairs.standard.end());
    pooled.centralized.insert(pooled.centralized.end(), pairs.centralized.begin(), pairs.centralized.end());
  }
  return pooled;
}

}  // namespace ipbench
