#include "noise/equicorrelated.h"

#include <cmath>

#include "core/error.h"
#include "noise/designs.h"

namespace ipbench {

void check_equicorrelation(int64_t K, double c, const std::string& owner) {
  require(K >= 2, owner, ": K = ", K, ". Violated: K >= 2 (members per coupled group)");
  const double lower = -1.0 / static_cast<double>(K - 1);
  require(std::isfinite(c) && c >= lower - 1e-12 && c <= 1.0 + 1e-12, owner, ": c = ", c, " with K = ", K,
          ". Violated: -1/(K-1) = ", lower, " <= c <= 1 (an equicorrelated coupling of K standard Gaussians exists ",
          "only there; c = -1/(K-1) is the repulsive coupling, 0 independent, 1 identical; couple-to-control ",
          "paper, Proposition 3.1)");
}

torch::Tensor equicorrelation_matrix(int64_t K, double c) {
  check_equicorrelation(K, c, "equicorrelated coupling");
  const double lower = -1.0 / static_cast<double>(K - 1);
  c = std::min(1.0, std::max(lower, c));
  const auto J = torch::full({K, K}, 1.0 / static_cast<double>(K), torch::kDouble);
  const auto I = torch::eye(K, torch::kDouble);
  const double a = std::sqrt(std::max(0.0, 1.0 - c)), b = std::sqrt(std::max(0.0, 1.0 + static_cast<double>(K - 1) * c));
  return a * (I - J) + b * J;
}

torch::Tensor couple_members(const torch::Tensor& A, const torch::Tensor& u) {
  TORCH_CHECK(A.dim() == 2 && u.dim() >= 2 && u.size(1) == A.size(1), "couple_members: A ", A.sizes(), ", u ",
              u.sizes());
  // z_m = sum_j A_mj u_j as elementwise multiply-adds in a fixed order (not a BLAS product, whose
  // summation order depends on the device and library): bitwise equal on every device.
  const auto a = A.detach().to(torch::kCPU, torch::kDouble).contiguous();
  const auto acc = a.accessor<double, 2>();
  std::vector<torch::Tensor> members;
  members.reserve(static_cast<size_t>(A.size(0)));
  for (int64_t m = 0; m < A.size(0); ++m) {
    auto z = u.select(1, 0) * acc[m][0];
    for (int64_t j = 1; j < A.size(1); ++j) z = z + u.select(1, j) * acc[m][j];
    members.push_back(z);
  }
  return torch::stack(members, 1);  // [G, M, ...]
}

void EquicorrelatedOptions::validate() const { check_equicorrelation(K, c, "EquicorrelatedOptions"); }

EquicorrelatedDesign::EquicorrelatedDesign(EquicorrelatedOptions options) : options_(options) {
  options_.validate();
  A_ = equicorrelation_matrix(options_.K, options_.c);
}

torch::Tensor EquicorrelatedDesign::draw(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                                         at::IntArrayRef sample_shape, torch::ScalarType dtype) const {
  const auto u =
      group_base_normals(stream_key, first_group, num_groups, draw, options_.K, sample_shape, torch::kDouble);
  return couple_members(A_, u).to(dtype).flatten(0, 1);
}

std::string EquicorrelatedDesign::describe() const {
  return str_cat("equicorrelated: K = ", options_.K, " members, pairwise correlation c = ", options_.c,
                 " (z_i = sqrt(1-c)(u_i - ubar) + sqrt(1+(K-1)c) ubar), on every draw");
}

}  // namespace ipbench
