#pragma once
// Equicorrelated Gaussian couplings of any strength (couple-to-control paper, Proposition 3.1).
//
// K members per group, Cov(z_i, z_j) = c I for i != j, each z_i exactly N(0, I). Such a coupling exists
// iff -1/(K-1) <= c <= 1: c = -1/(K-1) is the repulsive coupling (the minimax most repulsive one),
// c = 0 independent draws, c = 1 identical members. Construction from u_1..u_K iid N(0, I):
//   z_i = sqrt(1 - c) (u_i - ubar) + sqrt(1 + (K-1) c) ubar,
// i.e. z = A u with A = sqrt(1-c) (I - J/K) + sqrt(1+(K-1)c) J/K (J = all ones), A A^T = (1-c) I + c J.
// Every draw of a trajectory is coupled the same way (like repulsive and antithetic).
//
// The coupling is a tensor op on the keyed base draws (couple_members), so it runs on the device the
// base draws live on.
#include "noise/design.h"

namespace ipbench {

/// The K x K matrix A of the equicorrelated coupling (float64, CPU): unit-norm rows, A A^T = (1-c) I + c J.
/// Error naming the bound when c is outside [-1/(K-1), 1] or K < 2.
torch::Tensor equicorrelation_matrix(int64_t K, double c);

/// z = A u member-wise: u [G, r, ...] (base draws of G groups), A [M, r] -> [G, M, ...] in u's dtype and
/// on u's device, as elementwise multiply-adds in a fixed order (bitwise equal on every device). The one
/// coupling transform every matrix design uses. Not differentiable in A.
torch::Tensor couple_members(const torch::Tensor& A, const torch::Tensor& u);

/// Checks -1/(K-1) <= c <= 1 (with a 1e-12 slack for a typed-out bound such as -0.3333333333333333)
/// and K >= 2; Error "<owner>: c = ..., K = ... Violated: -1/(K-1) = ... <= c <= 1 ...".
void check_equicorrelation(int64_t K, double c, const std::string& owner);

struct EquicorrelatedOptions {
  /// Members per group, K >= 2.
  int64_t K = 3;
  /// Off-diagonal correlation, -1/(K-1) <= c <= 1 (paper Table 6 sweeps 0 .. -0.5 at K = 3).
  double c = -0.5;
  template <class F>
  void fields(F&& f) {
    f("K", K, "members per coupled group, >= 2");
    f("c", c, "pairwise correlation, -1/(K-1) <= c <= 1 (-1/(K-1) repulsive, 0 iid, 1 identical)");
  }
  void validate() const;
};

class EquicorrelatedDesign : public NoiseDesign {
 public:
  explicit EquicorrelatedDesign(EquicorrelatedOptions options);
  std::string name() const override { return "equicorrelated"; }
  int64_t group_size() const override { return options_.K; }
  torch::Tensor draw(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                     at::IntArrayRef sample_shape, torch::ScalarType dtype) const override;
  std::string describe() const override;

 private:
  EquicorrelatedOptions options_;
  torch::Tensor A_;
};

}  // namespace ipbench
