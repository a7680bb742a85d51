#pragma once
// mri: Cartesian undersampled MRI with a centered orthonormal FFT, single- or multi-coil.
//
//   z = x (image = real: each channel one real image)  or  x_0 + i x_1 (image = complex: C = 2, re/im)
//   forward(x)[c, k, j] = (F_c (S_k z_c))[r_j],   j = 1..m over the sampled k-space locations r_j
//   adjoint(y)          = sum_k conj(S_k) F_c^{-1}(zero-filled y_k)   then Re (real) or (re, im) (complex)
// F_c(u) = fftshift(fft2(ifftshift(u), norm = ortho)), so DC sits at (H/2, W/2) and F_c is unitary.
// The measurement keeps only the m sampled locations, as real pairs: [C', coils, m, 2] with
// C' = C (real) or 1 (complex). Storing complex data as (re, im) makes the plain real inner product the
// conjugate-correct one, Re <a, b> = Re sum conj(a) b, so adjointness, CG and the DPS norm need nothing
// special; the noise of measure() falls only on sampled locations.
// Sensitivities (coils > 1): smooth synthetic maps, coil k centred at 1.5 half-sizes from the image centre
// at angle 2 pi k / coils, magnitude exp(-d^2 / (2 (0.8 size)^2)), phase 2 pi k / coils + a linear ramp,
// normalized so that sum_k |S_k|^2 = 1 at every pixel (a fully sampled A is then an isometry).
// coils = 1 uses S = 1: A A^T = I and ||A||_2 = 1.
// Masks (m locations, drawn from the item's problem key; acceleration R, center fraction f):
//   uniform1d:  round(f W) central columns (fastMRI's ACS block) plus random columns, uniformly without
//               replacement, up to round(W / R) columns; each column fully sampled (all rows)
//   gaussian1d: as uniform1d, the extra columns weighted by exp(-(c - W/2)^2 / (2 (0.25 W)^2))
//   gaussian2d: a round(f H) x round(f W) central block plus single locations weighted by a 2-D Gaussian
//               (std 0.25 H, 0.25 W), up to round(H W / R) locations
//   radial:     the central block plus L spokes through the centre at angles t0 + j pi / L (t0 keyed),
//               L the smallest count that samples >= H W / R locations
// DDS's setting: uniform1d, R = 4, f = 0.08, at 320x320 (here any size).
// Errors: validate(); the constructor throws Error when C != 2 for image = complex, or when the central
// block alone exceeds the requested fraction.
#include <string>

#include "operators/operator.h"

namespace ipbench {

struct MriOptions {
  /// Sampling pattern: "uniform1d", "gaussian1d" (columns), "gaussian2d" or "radial" (2-D).
  std::string mask = "uniform1d";
  /// Acceleration R >= 1: about 1/R of k-space is sampled (DDS: 4).
  double acceleration = 4.0;
  /// Fraction of the central columns (or block side) always sampled, in [0, 1) (DDS: 0.08).
  double center_fraction = 0.08;
  /// Number of receive coils; 1 = single-coil (S = 1), > 1 = smooth synthetic sensitivities.
  int64_t coils = 1;
  /// "real" (each channel a real image) or "complex" (2 channels = real and imaginary part).
  std::string image = "real";

  template <class F>
  void fields(F&& f) {
    f("mask", mask, "sampling pattern: uniform1d | gaussian1d | gaussian2d | radial (DDS: uniform1d)");
    f("acceleration", acceleration, "acceleration R >= 1: about 1/R of k-space sampled (DDS: 4)");
    f("center_fraction", center_fraction, "central fraction always sampled, 0 <= f < 1 (DDS: 0.08)");
    f("coils", coils, "receive coils: 1 = single-coil, > 1 = synthetic smooth sensitivities (<= 32)");
    f("image", image, "real (each channel a real image) | complex (C = 2: real, imaginary)");
  }
  void validate() const;
};

class MriOperator : public Operator {
 public:
  using Options = MriOptions;
  /// Draws the mask from ctx.key and builds the coil maps; throws Error when the shape does not fit.
  MriOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx);

  std::string name() const override { return "mri"; }
  bool linear() const override { return true; }
  torch::Tensor forward(const torch::Tensor& x) const override;
  /// Closed form: zero-fill, inverse centered FFT, coil combination with conj(S).
  torch::Tensor adjoint(const torch::Tensor& y) const override;
  double known_norm() const override;
  std::vector<int64_t> measurement_shape() const override;
  std::string describe() const override;

  /// The sampling mask [H, W] (1 = sampled; float64, CPU).
  const torch::Tensor& mask() const { return mask64_; }
  /// The coil sensitivities as [coils, H, W, 2] (re, im; float64, CPU).
  torch::Tensor sensitivities() const { return torch::stack({sens_re64_, sens_im64_}, -1); }

 private:
  torch::Tensor coil_maps(const torch::Tensor& like) const;  ///< complex [1, 1, K, H, W]

  Options options_;
  int64_t H_ = 0, W_ = 0, m_ = 0, channels_ = 0;
  torch::Tensor mask64_;
  torch::Tensor index_;  ///< flattened sampled locations [m], int64 on ctx.device
  torch::Tensor sens_re_, sens_im_, sens_re64_, sens_im64_;  ///< [K, H, W]
  std::string drawn_;
};

/// The [H, W] sampling mask of `options` drawn with `key` (float64, 1 = sampled).
torch::Tensor mri_mask(const MriOptions& options, int64_t H, int64_t W, uint64_t key);

/// Centered orthonormal 2-D FFT over the last two dimensions of a complex tensor, and its inverse.
torch::Tensor fft2c(const torch::Tensor& u);
torch::Tensor ifft2c(const torch::Tensor& u);

OperatorEntry mri_entry();

}  // namespace ipbench
