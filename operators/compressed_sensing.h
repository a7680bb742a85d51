#pragma once
// cs: compressed sensing with a structured random orthogonal matrix, y = P T (s * vec(x)) in R^m.
//
//   vec(x)   the C*H*W pixels of one sample (n = C H W), s in {-1, +1}^n random signs
//   T        an orthonormal transform of R^n:
//              dct: the orthonormal DCT-II (computed with one FFT of length n, Makhoul's reordering)
//              fft: real rows sqrt(2) Re F_k and sqrt(2) Im F_k of the unitary DFT F, for bins
//                   0 < k < n/2 (each kept bin gives two orthonormal real rows)
//   P        keeps m of those rows, chosen uniformly without replacement (dct: m = round(ratio n);
//            fft: round(ratio n / 2) bins, m = 2 bins)
// The rows of A are orthonormal: A A^T = I_m, ||A||_2 = 1 and A^T A is the projection onto them.
// Signs and rows are drawn from the item's problem key. Cost O(n log n) per sample: 256x256x3 needs
// no dense matrix (the dense one would hold m n = 9.7e9 entries at ratio 0.25).
//   adjoint(y) = the autograd vector-Jacobian product of the linear forward (exact).
// Errors: validate() (0 < ratio <= 1, transform); the constructor throws Error when fewer than one
// row (or bin) would be kept, or more bins than 0 < k < n/2 offers.
#include <string>

#include "operators/operator.h"

namespace ipbench {

struct CompressedSensingOptions {
  /// Measurements per pixel, m / n, in (0, 1] (fft: at most (n - 1) / n rounded to whole bins).
  double ratio = 0.25;
  /// Orthonormal transform: "dct" (DCT-II) or "fft" (real and imaginary parts of DFT bins).
  std::string transform = "dct";

  template <class F>
  void fields(F&& f) {
    f("ratio", ratio, "measurements per pixel m/n, 0 < ratio <= 1");
    f("transform", transform, "orthonormal transform before row subsampling: dct | fft");
  }
  void validate() const;
};

class CompressedSensingOperator : public Operator {
 public:
  using Options = CompressedSensingOptions;
  CompressedSensingOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx);

  std::string name() const override { return "cs"; }
  bool linear() const override { return true; }
  torch::Tensor forward(const torch::Tensor& x) const override;
  double known_norm() const override { return 1.0; }
  /// Orthonormal rows: every singular value is 1 (A^+ = A^T).
  double equal_singular_value() const override { return 1.0; }
  std::vector<int64_t> measurement_shape() const override { return {m_}; }
  std::string describe() const override;

 private:
  Options options_;
  int64_t n_ = 0, m_ = 0;
  torch::Tensor signs_, signs64_;  ///< [n]
  torch::Tensor rows_;             ///< kept rows (dct) or bins (fft), int64 on ctx.device
};

/// Orthonormal DCT-II along the last dimension (any length), differentiable.
torch::Tensor dct_ortho(const torch::Tensor& v);

OperatorEntry compressed_sensing_entry();

}  // namespace ipbench
