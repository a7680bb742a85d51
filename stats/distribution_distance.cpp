#include "stats/distribution_distance.h"

#include <Eigen/Dense>

#include "core/error.h"

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
  const Matrix ra = psd_sqrt(Sa);
  const Matrix inner = ra * Sb * ra;
  Eigen::SelfAdjointEigenSolver<Matrix> eig(0.5 * (inner + inner.transpose()), Eigen::EigenvaluesOnly);
  const double tr_cross = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt().sum();
  return (mu_a - mu_b).squaredNorm() + Sa.trace() + Sb.trace() - 2.0 * tr_cross;
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
