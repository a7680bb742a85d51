#pragma once
// inpaint: y = x * M with one binary mask M in {0, 1}^[1, 1, H, W] shared by all channels.
//
//   forward(x) = x * M            (broadcast over batch and channels)
//   adjoint(y) = y * M            (M is diagonal and real: the operator is self-adjoint)
//
// The mask is drawn once, when the operator is built, from the problem key ctx.key (through the
// sub-key derive_key(ctx.key, hash_string("inpaint"))), so every sample and every solver of one item
// sees the same mask, and the mask stream never overlaps the measurement-noise stream:
//   random: p ~ U(mask_prob_min, mask_prob_max); exactly floor(H*W*p) pixels, chosen uniformly
//           without replacement (keyed partial Fisher-Yates), are set to 0 (DPS's recipe, whose
//           default range (0.3, 0.7) is kept).
//   box:    a square of side b (box_size; 0 = auto = min(H, W) / 2, DPS's 128 at 256) set to 0, its
//           top uniform in [m_H, H - b - m_H) and left in [m_W, W - b - m_W) with margins
//           m = min(size / 16, (size - b) / 2) (DPS: randint(16, 112) at 256; the range is never empty).
//   half:   the right half, columns [W/2, W), set to 0 (no randomness): the observed left half pins
//           part of the image while the right half is pure prior, for the partial-negation study.
// Errors: Options::validate() (mode, probability range, box_size >= 0); the constructor throws Error
// when box_size >= H or >= W, or for half when W < 2.
#include <string>

#include "operators/operator.h"

namespace ipbench {

struct InpaintOptions {
  /// Mask kind: "random" (scattered pixels), "box" (one square hole) or "half" (right half missing).
  std::string mode = "random";
  /// random: lower end of the range of the masked fraction p; 0 <= min <= max < 1 (DPS: 0.3).
  double mask_prob_min = 0.3;
  /// random: upper end of the range of the masked fraction p (DPS: 0.7).
  double mask_prob_max = 0.7;
  /// box: side of the square hole in pixels; 0 = auto = min(H, W) / 2 (DPS: 128 at 256); < H and W.
  int64_t box_size = 0;

  template <class F>
  void fields(F&& f) {
    f("mode", mode, "mask kind: random | box | half (right half missing)");
    f("mask_prob_min", mask_prob_min, "random: masked fraction p ~ U(min, max); 0 <= min <= max < 1 (DPS: 0.3)");
    f("mask_prob_max", mask_prob_max, "random: upper end of the masked-fraction range (DPS: 0.7)");
    f("box_size", box_size, "box: side of the square hole in pixels; 0 = auto = min(H,W)/2 (DPS: 128 at 256)");
  }
  void validate() const;
};

class InpaintOperator : public Operator {
 public:
  using Options = InpaintOptions;
  /// Draws the mask from ctx.key; throws Error when the box does not fit the image.
  InpaintOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx);

  std::string name() const override { return "inpaint"; }
  bool linear() const override { return true; }
  torch::Tensor forward(const torch::Tensor& x) const override;
  /// Closed form: y * M.
  torch::Tensor adjoint(const torch::Tensor& y) const override;
  std::vector<int64_t> measurement_shape() const override { return image_shape(); }
  std::string describe() const override;
  /// U = V = I, s = M (per channel).
  const OperatorSvd* svd() const override { return svd_.get(); }
  double equal_singular_value() const override { return 1.0; }

  /// The mask [1, 1, H, W] (1 = observed, 0 = missing) on ctx.device in ctx.dtype.
  const torch::Tensor& mask() const { return mask_; }
  torch::Tensor pixel_mask() const override { return mask64_; }
  /// Number of missing (zeroed) pixels per channel.
  int64_t missing() const { return missing_; }

 private:
  Options options_;
  torch::Tensor mask_;    ///< ctx.device, ctx.dtype
  torch::Tensor mask64_;  ///< CPU float64 master
  int64_t missing_ = 0;
  std::shared_ptr<const OperatorSvd> svd_;
  std::string drawn_;     ///< what was drawn, for describe()
};

OperatorEntry inpaint_entry();

}  // namespace ipbench
