#pragma once
// ct: parallel-beam Radon transform (sinogram) with its TRUE adjoint, plus filtered back-projection.
//
//   forward(x)[c, a, b] = sum_p R[a n_det + b, p] x[c, p]      adjoint(y) = R^T y (exact, same matrix)
// R is a sparse matrix built once in float64 ("pixel-driven" linear interpolation): pixel p = (i, j)
// with centre (u, v) = (j - (W - 1) / 2, (H - 1) / 2 - i) projects at angle theta_a to
//   t = u cos theta_a + v sin theta_a,   position s = t + (n_det - 1) / 2 on the detector,
// and adds weights 1 - frac(s), frac(s) to bins floor(s), floor(s) + 1 (unit pixels and bins, so a
// constant image of value 1 sums to about the chord length). n_det = ceil(sqrt(H^2 + W^2)) + 2 bins cover
// every pixel at every angle. forward and adjoint are one sparse-dense product each (batch and channels
// as columns); the adjoint is the transpose of the forward matrix, so <R x, y> = <x, R^T y> holds to
// rounding (the tests check 1e-10 in float64). DDS's rotate-and-sum back-projection is only
// approximately adjoint (solvers.md section 3).
// Angles (degrees, no randomness): theta_a = angle_min + a (angle_max - angle_min) / angles,
// a = 0..angles-1. Sparse view (DDS): angles = 8 or 30 in [0, 180). Limited angle (DDS): angles = 120,
// angle_max = 120 (0..119 degrees).
// fbp(y): Ram-Lak filtered back-projection, the textbook baseline reconstruction: each projection is
// convolved with the band-limited ramp h(0) = 1/4, h(n odd) = -1/(pi n)^2, h(n even) = 0 (Kak & Slaney,
// eq. 61; zero padded to avoid wrap-around), then back-projected with R^T and scaled by pi / angles.
// Errors: validate() (angles >= 1, 0 <= angle_min < angle_max <= 360).
#include <string>

#include "operators/operator.h"

namespace ipbench {

struct CtOptions {
  /// Number of projection angles (DDS sparse view: 8 or 30; limited angle: 120).
  int64_t angles = 30;
  /// First angle in degrees.
  double angle_min = 0.0;
  /// End of the angular range in degrees (exclusive); 180 = full parallel-beam range, 120 = limited angle.
  double angle_max = 180.0;

  template <class F>
  void fields(F&& f) {
    f("angles", angles, "number of projection angles, >= 1 (DDS sparse view: 8 or 30; limited angle: 120)");
    f("angle_min", angle_min, "first angle in degrees, >= 0");
    f("angle_max", angle_max, "end of the angle range in degrees (exclusive), <= 360 (limited angle: 120)");
  }
  void validate() const;
};

class CtOperator : public Operator {
 public:
  using Options = CtOptions;
  CtOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx);

  std::string name() const override { return "ct"; }
  bool linear() const override { return true; }
  torch::Tensor forward(const torch::Tensor& x) const override;
  /// Closed form: R^T y with the precomputed transpose.
  torch::Tensor adjoint(const torch::Tensor& y) const override;
  std::vector<int64_t> measurement_shape() const override;
  std::string describe() const override;

  /// Ram-Lak filtered back-projection of a sinogram batch [B] + measurement_shape(): [B, C, H, W].
  torch::Tensor fbp(const torch::Tensor& y) const;
  /// Projection angles in degrees.
  const std::vector<double>& angles_deg() const { return angles_; }
  int64_t detectors() const { return n_det_; }

 private:
  /// Sparse [rows, cols] matrix times a dense [B, C, cols...] batch: [B, C, rows].
  static torch::Tensor apply(const torch::Tensor& sparse, const torch::Tensor& v);
  torch::Tensor matrix(const torch::Tensor& like, bool transpose) const;

  Options options_;
  int64_t H_ = 0, W_ = 0, n_det_ = 0;
  std::vector<double> angles_;
  torch::Tensor r_, rt_;      ///< ctx.dtype copies, on ctx.device
  torch::Tensor r64_, rt64_;  ///< float64 CPU masters (sparse COO, coalesced)
};

/// The sparse parallel-beam projection matrix [angles n_det, H W] (float64 COO) described above.
torch::Tensor radon_matrix(int64_t H, int64_t W, const std::vector<double>& angles_deg, int64_t n_det);

OperatorEntry ct_entry();

}  // namespace ipbench
