#include "operators/inpaint.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/options.h"
#include "core/rng.h"

namespace ipbench {

void InpaintOptions::validate() const {
  check_option(mode == "random" || mode == "box" || mode == "half", "InpaintOptions", "mode", mode,
               "mode in {random, box, half}");
  check_option(std::isfinite(mask_prob_min) && mask_prob_min >= 0, "InpaintOptions", "mask_prob_min",
               mask_prob_min, "0 <= mask_prob_min");
  check_option(std::isfinite(mask_prob_max) && mask_prob_max < 1, "InpaintOptions", "mask_prob_max",
               mask_prob_max, "mask_prob_max < 1");
  check_option(mask_prob_min <= mask_prob_max, "InpaintOptions", "mask_prob_min", mask_prob_min,
               "mask_prob_min <= mask_prob_max");
  check_option(box_size >= 0, "InpaintOptions", "box_size", box_size, "box_size >= 0 (0 = auto)");
}

namespace {

struct DrawnMask {
  torch::Tensor mask;  ///< CPU float64 [1, 1, H, W]
  int64_t missing = 0;
  std::string what;
};

// DPS: p ~ U(min, max), then int(H*W*p) distinct pixels set to 0. A partial Fisher-Yates shuffle on
// the keyed generator picks them uniformly without replacement.
DrawnMask random_mask(int64_t H, int64_t W, const InpaintOptions& o, KeyedGenerator& gen) {
  const double p = o.mask_prob_min + (o.mask_prob_max - o.mask_prob_min) * gen.uniform();
  const int64_t n = H * W;
  const auto k = static_cast<int64_t>(static_cast<double>(n) * p);
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), int64_t{0});
  auto mask = torch::ones({1, 1, H, W}, torch::kDouble);
  double* m = mask.data_ptr<double>();
  for (int64_t i = 0; i < k; ++i) {
    std::swap(idx[i], idx[gen.uniform_int(i, n - 1)]);
    m[idx[i]] = 0.0;
  }
  return {mask, k, str_cat("random p=", option_value(p))};
}

// Offset of a box of side b along an axis of length `size`: uniform in [m, size - b - m) with
// margin m = min(size / 16, (size - b) / 2), as DPS's randint(16, 112) at 256 (high exclusive).
int64_t box_offset(int64_t size, int64_t b, KeyedGenerator& gen) {
  const int64_t m = std::min(size / 16, (size - b) / 2);
  return gen.uniform_int(m, std::max(m, size - b - m - 1));
}

DrawnMask box_mask(int64_t H, int64_t W, int64_t b, KeyedGenerator& gen) {
  const int64_t top = box_offset(H, b, gen);
  const int64_t left = box_offset(W, b, gen);
  auto mask = torch::ones({1, 1, H, W}, torch::kDouble);
  mask.narrow(2, top, b).narrow(3, left, b).zero_();
  return {mask, b * b, str_cat("box ", b, "x", b, " at (", top, ", ", left, ")")};
}

}  // namespace

InpaintOperator::InpaintOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx)
    : Operator(noise, ctx.image_shape), options_(std::move(options)) {
  require_image_shape(ctx, "inpaint");
  const int64_t H = ctx.image_shape[1], W = ctx.image_shape[2];
  KeyedGenerator gen(derive_key(ctx.key, hash_string("inpaint")));
  DrawnMask drawn;
  if (options_.mode == "random") {
    drawn = random_mask(H, W, options_, gen);
  } else if (options_.mode == "half") {
    require(W >= 2, "operator 'inpaint': mode = half needs W >= 2, got a ", H, "x", W, " image");
    drawn.mask = torch::ones({1, 1, H, W}, torch::kDouble);
    drawn.mask.narrow(3, W / 2, W - W / 2).zero_();
    drawn.missing = H * (W - W / 2);
    drawn.what = str_cat("half: columns ", W / 2, "..", W - 1);
  } else {
    const int64_t b = options_.box_size > 0 ? options_.box_size : std::min(H, W) / 2;
    require(b >= 1 && b < H && b < W, "operator 'inpaint': box_size = ", b, " does not fit a ", H, "x", W,
            " image. Violated: 1 <= box_size < H and W");
    drawn = box_mask(H, W, b, gen);
  }
  mask64_ = drawn.mask;
  mask_ = mask64_.to(ctx.device, ctx.dtype);
  missing_ = drawn.missing;
  svd_ = std::make_shared<DiagonalSvd>(mask64_[0], ctx.image_shape);
  drawn_ = drawn.what;
}

torch::Tensor InpaintOperator::forward(const torch::Tensor& x) const {
  check_input(x);
  return x * constant_like(mask_, mask64_, x);
}

torch::Tensor InpaintOperator::adjoint(const torch::Tensor& y) const {
  check_measurement(y);
  return y * constant_like(mask_, mask64_, y);
}

std::string InpaintOperator::describe() const {
  const auto& s = image_shape();
  return str_cat("inpaint(", drawn_, ", missing ", missing_, "/", s[1] * s[2], " pixels, image ", s[0], "x",
                 s[1], "x", s[2], ", sigma_y=", option_value(noise().sigma_y), ")");
}

OperatorEntry inpaint_entry() {
  return make_operator_entry<InpaintOperator>(
      "inpaint", "y = x * M: random pixels (p ~ U(0.3, 0.7)), a square box or the right half missing; keyed per item",
      /*linear=*/true, OperatorCapabilities{/*svd=*/true, /*projector=*/true});
}

}  // namespace ipbench
