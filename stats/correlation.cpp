#include "stats/correlation.h"

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

PairCorrelations item_pair_correlations(const torch::Tensor& samples, const torch::Tensor& ok, int64_t K) {
  torch::NoGradGuard no_grad;
  const int64_t S = samples.size(0);
  TORCH_CHECK(K >= 1 && S % K == 0, "item_pair_correlations: ", S, " samples are not whole groups of K = ", K);
  TORCH_CHECK(ok.dim() == 1 && ok.size(0) == S, "item_pair_correlations: ok must be [", S, "]");
  const auto flat = samples.reshape({S, -1}).to(torch::kCPU, torch::kDouble);
  const auto okc = ok.to(torch::kCPU, torch::kBool);
  std::vector<int64_t> first, second;
  if (K >= 2) {
    for (int64_t g = 0; g < S / K; ++g)
      for (int64_t i = 0; i < K; ++i)
        for (int64_t j = i + 1; j < K; ++j) first.push_back(g * K + i), second.push_back(g * K + j);
  } else {
    for (int64_t s = 0; s + 1 < S; s += 2) first.push_back(s), second.push_back(s + 1);
  }
  PairCorrelations out;
  if (first.empty() || okc.sum().item<int64_t>() == 0) return out;
  const auto ia = torch::tensor(first, torch::kLong), ib = torch::tensor(second, torch::kLong);
  const auto keep = okc.index_select(0, ia).logical_and(okc.index_select(0, ib));
  const auto center = flat.index({okc}).mean(0, true);  // mean over the ok samples
  const auto a = flat.index_select(0, ia), b = flat.index_select(0, ib);
  const auto standard = pearson_rows(a, b), centralized = pearson_rows(a - center, b - center);
  const auto keep_acc = keep.accessor<bool, 1>();
  for (int64_t p = 0; p < keep.size(0); ++p) {
    if (!keep_acc[p]) continue;
    const double s = standard[p].item<double>(), c = centralized[p].item<double>();
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
