#include "stats/distribution_distance.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "stats/bootstrap.h"

namespace ipbench {

namespace {

using Matrix = Eigen::MatrixXd;

Matrix to_eigen(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kDouble).contiguous();
  // Row-major torch data into a column-major Eigen matrix.
  Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> m(
      c.data_ptr<double>(), c.size(0), c.size(1));
  return m;
}

// Symmetric PSD square root by eigendecomposition (negative rounding noise clipped to 0).
Matrix psd_sqrt(const Matrix& s) {
  Eigen::SelfAdjointEigenSolver<Matrix> eig(s);
  const Eigen::VectorXd root = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  return eig.eigenvectors() * root.asDiagonal() * eig.eigenvectors().transpose();
}

// FD of N(mu_a, Sa) and N(mu_b, Sb): ||mu_a - mu_b||^2 + tr(Sa + Sb - 2 (Sa^1/2 Sb Sa^1/2)^1/2), with the
// symmetric PSD product's square root from its eigenvalues (negative rounding noise clipped to 0).
double frechet_gaussians(const Eigen::VectorXd& mu_a, const Matrix& Sa, const Eigen::VectorXd& mu_b, const Matrix& Sb) {
  const Matrix ra = psd_sqrt(0.5 * (Sa + Sa.transpose()));
  const Matrix inner = ra * Sb * ra;
  Eigen::SelfAdjointEigenSolver<Matrix> eig(0.5 * (inner + inner.transpose()), Eigen::EigenvaluesOnly);
  const double tr_cross = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt().sum();
  return (mu_a - mu_b).squaredNorm() + Sa.trace() + Sb.trace() - 2.0 * tr_cross;
}

void check_sets(const torch::Tensor& a, const torch::Tensor& b, const char* what) {
  require(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(1), what, ": sets must be [N, D] and [M, D] with equal D");
  require(a.size(0) >= 1 && b.size(0) >= 1, what, ": empty set");
}

}  // namespace

double frechet_distance(const torch::Tensor& a, const torch::Tensor& b) {
  check_sets(a, b, "frechet_distance");
  require(a.size(0) >= 2 && b.size(0) >= 2, "frechet_distance: each set needs at least 2 rows");
  const Matrix A = to_eigen(a), B = to_eigen(b);
  const Eigen::RowVectorXd mu_a = A.colwise().mean(), mu_b = B.colwise().mean();
  const Matrix Ac = A.rowwise() - mu_a, Bc = B.rowwise() - mu_b;
  const Matrix Sa = (Ac.transpose() * Ac) / double(A.rows() - 1);
  const Matrix Sb = (Bc.transpose() * Bc) / double(B.rows() - 1);
  return frechet_gaussians(mu_a.transpose(), Sa, mu_b.transpose(), Sb);
}

double frechet_distance_gaussians(const torch::Tensor& mu_a, const torch::Tensor& s_a, const torch::Tensor& mu_b,
                                  const torch::Tensor& s_b) {
  const int64_t d = mu_a.numel();
  require(mu_b.numel() == d && s_a.dim() == 2 && s_a.size(0) == d && s_a.size(1) == d && s_b.dim() == 2 &&
              s_b.size(0) == d && s_b.size(1) == d,
          "frechet_distance_gaussians: means [D] and covariances [D, D] of one D");
  return frechet_gaussians(to_eigen(mu_a.reshape({d, 1})), to_eigen(s_a), to_eigen(mu_b.reshape({d, 1})),
                           to_eigen(s_b));
}

namespace {

// Per-item sums of one set about a common centre: rows, sum of rows, sum of outer products.
struct ItemMoments {
  std::vector<double> n;
  std::vector<Eigen::VectorXd> sum;
  std::vector<Matrix> outer;
};

ItemMoments item_moments(const std::vector<torch::Tensor>& items, const Eigen::RowVectorXd& centre) {
  ItemMoments m;
  for (const auto& t : items) {
    const int64_t d = centre.size();
    if (!t.defined() || t.numel() == 0) {
      m.n.push_back(0.0);
      m.sum.push_back(Eigen::VectorXd::Zero(d));
      m.outer.push_back(Matrix::Zero(d, d));
      continue;
    }
    const Matrix X = to_eigen(t).rowwise() - centre;
    m.n.push_back(static_cast<double>(X.rows()));
    m.sum.push_back(X.colwise().sum().transpose());
    m.outer.push_back(X.transpose() * X);
  }
  return m;
}

// The Frechet distance of the pooled sets with item i weighted by counts[i] (0 = left out).
double pooled_frechet(const ItemMoments& a, const ItemMoments& b, const std::vector<int>& counts) {
  auto pool = [&counts](const ItemMoments& m, Eigen::VectorXd& mu, Matrix& cov) {
    double n = 0.0;
    Eigen::VectorXd s = Eigen::VectorXd::Zero(m.sum.front().size());
    Matrix o = Matrix::Zero(s.size(), s.size());
    for (size_t i = 0; i < counts.size(); ++i)
      if (counts[i] > 0) {
        n += counts[i] * m.n[i];
        s += counts[i] * m.sum[i];
        o += counts[i] * m.outer[i];
      }
    if (n < 2.0) return false;
    mu = s / n;
    cov = (o - n * mu * mu.transpose()) / (n - 1.0);
    return true;
  };
  Eigen::VectorXd mu_a, mu_b;
  Matrix sa, sb;
  if (!pool(a, mu_a, sa) || !pool(b, mu_b, sb)) return kNaN;
  return frechet_gaussians(mu_a, sa, mu_b, sb);
}

}  // namespace

SetDistance frechet_distance_over_items(const std::vector<torch::Tensor>& a_items,
                                        const std::vector<torch::Tensor>& b_items, double confidence, uint64_t key,
                                        int64_t resamples) {
  require(a_items.size() == b_items.size() && !a_items.empty(),
          "frechet_distance_over_items: one entry per item in both sets");
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> all;
  for (const auto* set : {&a_items, &b_items})
    for (const auto& t : *set)
      if (t.defined() && t.numel() > 0) {
        require(t.dim() == 2, "frechet_distance_over_items: every item's rows must be [n, D]");
        all.push_back(t.to(torch::kCPU, torch::kDouble));
      }
  require(!all.empty(), "frechet_distance_over_items: both sets are empty");
  const auto rows = torch::cat(all, 0);
  const Matrix R = to_eigen(rows);
  const Eigen::RowVectorXd centre = R.colwise().mean();
  const ItemMoments a = item_moments(a_items, centre), b = item_moments(b_items, centre);
  SetDistance out;
  out.items = static_cast<int64_t>(a_items.size());
  for (size_t i = 0; i < a_items.size(); ++i) {
    out.rows_a += static_cast<int64_t>(a.n[i]);
    out.rows_b += static_cast<int64_t>(b.n[i]);
  }
  require(out.rows_a >= 2 && out.rows_b >= 2, "frechet_distance_over_items: each set needs at least 2 rows (has ",
          out.rows_a, " and ", out.rows_b, ")");
  const size_t I = a_items.size();
  const double estimate = pooled_frechet(a, b, std::vector<int>(I, 1));
  out.value.value = estimate;
  if (I < 3 || resamples <= 0) return out;
  std::vector<double> replicates;
  replicates.reserve(static_cast<size_t>(resamples));
  std::vector<int> counts(I);
  for (int64_t r = 0; r < resamples; ++r) {
    KeyedGenerator gen(derive_key(key, static_cast<uint64_t>(r)));
    std::fill(counts.begin(), counts.end(), 0);
    for (size_t j = 0; j < I; ++j) ++counts[static_cast<size_t>(gen.uniform_int(0, static_cast<int64_t>(I) - 1))];
    replicates.push_back(pooled_frechet(a, b, counts));
  }
  std::vector<double> jack;
  for (size_t i = 0; i < I; ++i) {
    std::vector<int> keep(I, 1);
    keep[i] = 0;
    const double v = pooled_frechet(a, b, keep);
    if (std::isfinite(v)) jack.push_back(v);
  }
  out.resamples = resamples;
  out.value = bca_interval(estimate, std::move(replicates), jack, confidence, resamples);
  out.value.value = estimate;
  return out;
}

double mean_nearest_neighbor_distance(const torch::Tensor& a, const torch::Tensor& ref) {
  check_sets(a, ref, "mean_nearest_neighbor_distance");
  torch::NoGradGuard no_grad;
  const auto A = a.to(torch::kDouble), R = ref.to(torch::kDouble);
  const auto ref_sq = R.square().sum(1);
  double total = 0.0;
  const int64_t D = A.size(1), chunk = 256;
  for (int64_t i = 0; i < A.size(0); i += chunk) {
    const auto x = A.narrow(0, i, std::min(chunk, A.size(0) - i));
    const auto d2 = (x.square().sum(1, true) - 2.0 * x.matmul(R.t()) + ref_sq.unsqueeze(0)).clamp_min(0.0);
    total += std::get<0>(d2.min(1)).div(D).sqrt().sum().item<double>();
  }
  return total / A.size(0);
}

}  // namespace ipbench
