// Validation of every noise design with the estimators of stats/ on integrands with known means
// (specs/noise-and-stats.md sections 5-6): interval coverage inside the binomial band, measured
// efficiencies equal to the analytic ones, and the faster-than-MC error decay of RQMC.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/rng.h"
#include "noise/designs.h"
#include "noise/noise_stream.h"
#include "noise/sobol.h"
#include "stats/intervals.h"

using namespace ipbench;

namespace {

std::shared_ptr<const NoiseDesign> make_design(const std::string& type, const std::string& options) {
  register_builtin_designs();
  auto cfg = Config::from_string("[noise.d]\n" + options, "validation");
  return design_registry().get(type).make(cfg.section("noise.d"));
}

struct Design {
  std::string label, type, options;
};

const std::vector<Design>& designs() {
  static const std::vector<Design> all{{"iid", "iid", ""},
                                       {"antithetic", "antithetic", ""},
                                       {"repulsive K=4", "repulsive", "K = 4"},
                                       {"rqmc n=16", "rqmc", "m = 4\ns = 2\nembedding = none"}};
  return all;
}

/// One repetition: N = 256 evaluations of f on draws of `d` (2-D noise), as group means (the units).
template <class F>
std::vector<double> units(const NoiseDesign& d, std::shared_ptr<const NoiseDesign> ptr, uint64_t key, F f) {
  const int64_t K = d.group_size(), G = 256 / K;
  NoiseStream s(std::move(ptr), key, 0, G, torch::kCPU, torch::kDouble);
  const auto z = s.gaussian({2});
  const torch::Tensor values = f(z.select(1, 0), z.select(1, 1)).view({G, K}).mean(1).contiguous();
  return std::vector<double>(values.data_ptr<double>(), values.data_ptr<double>() + G);
}

}  // namespace

TEST_CASE("noise: every design's 95% interval covers inside the binomial band, efficiencies as analytic",
          "[noise][validation][coverage]") {
  // f = cos Z1 + Z2: mean e^{-1/2}, sigma^2 = 1.1997882; antithetic RE 3.0026, K = 4 RE 4.585 (spec 6).
  // M = 1000 repetitions of N = 256 samples; band at alpha = 0.001: [926, 971].
  const double truth = std::exp(-0.5), sigma2 = 1.1997882;
  const int64_t M = 1000;
  auto f = [](const torch::Tensor& z1, const torch::Tensor& z2) { return torch::cos(z1) + z2; };
  std::vector<double> estimator_variance;
  for (const auto& design : designs()) {
    auto d = make_design(design.type, design.options);
    int64_t covered = 0;
    std::vector<double> estimates;
    for (int64_t rep = 0; rep < M; ++rep) {
      const auto u = units(*d, d, derive_key(7, hash_string(design.label), rep), f);
      const auto ci = t_interval(u, 0.95);
      covered += (ci.low <= truth && truth <= ci.high) ? 1 : 0;
      estimates.push_back(ci.mean);
    }
    INFO(design.label << ": " << covered << " of " << M << " intervals cover");
    CHECK(covered >= 926);
    CHECK(covered <= 971);
    estimator_variance.push_back(sample_variance(estimates));
  }
  // Measured RE vs the MC estimator's variance sigma^2/N: the F interval (df M-1 each) holds the truth.
  const double mc = estimator_variance[0];
  CHECK(std::abs(mc / (sigma2 / 256) - 1.0) < 0.15);
  const std::vector<double> analytic{1.0, 3.0026, 4.585};
  for (size_t i = 1; i < 3; ++i) {
    const double re = mc / estimator_variance[i];
    const auto interval = variance_ratio_interval(re, M - 1, M - 1, 0.999);
    INFO(designs()[i].label << ": measured RE " << re << " [" << interval.low << ", " << interval.high << "], analytic "
                            << analytic[i]);
    CHECK(interval.low <= analytic[i]);
    CHECK(analytic[i] <= interval.high);
  }
  // RQMC on a smooth 2-D integrand: far more efficient than antithetic (the spec's simulation: RE 34.6).
  CHECK(mc / estimator_variance[3] > 10.0);
}

TEST_CASE("noise: antithetic and K = 4 correlations of f = e^Z match -1/e and (e^{-1/3} - 1)/(e - 1)",
          "[noise][validation]") {
  auto pair_stats = [](const std::string& type, const std::string& options) {
    auto d = make_design(type, options);
    const int64_t K = d->group_size(), G = 40000 / K;
    NoiseStream s(d, 99, 0, G, torch::kCPU, torch::kDouble);
    const auto f = torch::exp(s.gaussian({1}).view({G, K}));
    const double sigma2 = f.var().item<double>();
    const double var_group = f.mean(1).var().item<double>();
    return std::make_pair((var_group * K / sigma2 - 1.0) / (K - 1), G);  // rhobar
  };
  const auto [rho, pairs] = pair_stats("antithetic", "");
  const auto ci = fisher_z_interval(rho, pairs, 0.999);
  CHECK(ci.low <= -1.0 / std::exp(1.0));
  CHECK(-1.0 / std::exp(1.0) <= ci.high);
  const auto [rhobar, groups] = pair_stats("repulsive", "K = 4");
  const double analytic = (std::exp(-1.0 / 3.0) - 1.0) / (std::exp(1.0) - 1.0);  // -0.164972
  CHECK(std::abs(rhobar - analytic) < 0.02);
}

TEST_CASE("noise: RQMC error decays faster than Monte Carlo (slope test)", "[noise][validation][rqmc]") {
  // f(x) = prod_j (1 + (x_j - 1/2)) on [0,1]^2, integral 1. R = 100 replicates per n = 2^m, m = 4..12;
  // fitted slope of log RMSE against log n must be below -1.2 (MC: -0.5; the spec measured -1.44).
  std::vector<double> log_n, log_rmse;
  for (int64_t m = 4; m <= 12; m += 2) {
    const int64_t n = int64_t{1} << m, R = 100;
    double sse = 0;
    for (int64_t r = 0; r < R; ++r) {
      const auto u = rqmc_uniforms(n, 0, 2, derive_key(3, m, r));
      const double est = (1.0 + (u - 0.5)).prod(1).mean().item<double>();
      sse += (est - 1.0) * (est - 1.0);
    }
    log_n.push_back(std::log(static_cast<double>(n)));
    log_rmse.push_back(0.5 * std::log(sse / R));
  }
  const double mx = mean(log_n), my = mean(log_rmse);
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < log_n.size(); ++i) {
    sxy += (log_n[i] - mx) * (log_rmse[i] - my);
    sxx += (log_n[i] - mx) * (log_n[i] - mx);
  }
  const double slope = sxy / sxx;
  INFO("fitted slope " << slope);
  CHECK(slope < -1.2);
}
