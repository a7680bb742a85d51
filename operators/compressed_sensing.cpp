#include "operators/compressed_sensing.h"

#include <cmath>
#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/options.h"
#include "core/rng.h"

namespace ipbench {

void CompressedSensingOptions::validate() const {
  check_option(std::isfinite(ratio) && ratio > 0 && ratio <= 1, "CompressedSensingOptions", "ratio", ratio,
               "0 < ratio <= 1");
  check_option(transform == "dct" || transform == "fft", "CompressedSensingOptions", "transform", transform,
               "transform in {dct, fft}");
}

torch::Tensor dct_ortho(const torch::Tensor& v) {
  // Makhoul (1980): w = [v_0, v_2, v_4, ..., v_5, v_3, v_1]; X_k = Re(e^{-i pi k / (2n)} FFT(w)_k).
  const int64_t n = v.size(-1);
  using torch::indexing::Slice;
  auto w = torch::cat({v.index({"...", Slice(0, torch::indexing::None, 2)}),
                       v.index({"...", Slice(1, torch::indexing::None, 2)}).flip({-1})},
                      -1);
  auto W = torch::fft::fft(w, c10::nullopt, -1);
  const auto real_type = v.scalar_type();
  auto k = torch::arange(n, v.options().dtype(real_type));
  auto phase = -M_PI * k / (2.0 * static_cast<double>(n));
  auto X = torch::real(W) * torch::cos(phase) - torch::imag(W) * torch::sin(phase);
  auto scale = torch::full({n}, std::sqrt(2.0 / static_cast<double>(n)), v.options());
  scale[0] = std::sqrt(1.0 / static_cast<double>(n));
  return X * scale;
}

namespace {

// k distinct values of [lo, hi) uniformly (keyed partial Fisher-Yates), sorted.
std::vector<int64_t> choose(int64_t lo, int64_t hi, int64_t k, KeyedGenerator& g) {
  std::vector<int64_t> idx(static_cast<size_t>(hi - lo));
  std::iota(idx.begin(), idx.end(), lo);
  const int64_t n = hi - lo;
  for (int64_t i = 0; i < k; ++i) std::swap(idx[i], idx[g.uniform_int(i, n - 1)]);
  idx.resize(static_cast<size_t>(k));
  std::sort(idx.begin(), idx.end());
  return idx;
}

}  // namespace

CompressedSensingOperator::CompressedSensingOperator(MeasurementOptions noise, Options options,
                                                     const OperatorContext& ctx)
    : Operator(noise, ctx.image_shape), options_(std::move(options)) {
  require_image_shape(ctx, "cs");
  const auto& s = ctx.image_shape;
  n_ = s[0] * s[1] * s[2];
  KeyedGenerator g(derive_key(ctx.key, hash_string("cs")));
  signs64_ = (keyed_uniform({n_}, derive_key(ctx.key, hash_string("cs"), hash_string("signs"))) < 0.5)
                 .to(torch::kDouble) * 2 - 1;
  signs_ = signs64_.to(ctx.device, ctx.dtype);
  std::vector<int64_t> rows;
  if (options_.transform == "dct") {
    m_ = static_cast<int64_t>(std::llround(options_.ratio * static_cast<double>(n_)));
    require(m_ >= 1, "operator 'cs': ratio = ", option_value(options_.ratio), " keeps no row of n = ", n_,
            ". Violated: round(ratio n) >= 1");
    rows = choose(0, n_, m_, g);
  } else {
    const int64_t bins = static_cast<int64_t>(std::llround(options_.ratio * static_cast<double>(n_) / 2.0));
    const int64_t available = (n_ - 1) / 2;  // 0 < k < n / 2
    require(bins >= 1 && bins <= available, "operator 'cs': ratio = ", option_value(options_.ratio),
            " asks for ", bins, " DFT bins of n = ", n_, ". Violated: 1 <= round(ratio n / 2) <= ", available,
            " (bins 0 < k < n/2)");
    rows = choose(1, available + 1, bins, g);
    m_ = 2 * bins;
  }
  rows_ = torch::tensor(rows, torch::kLong).to(ctx.device);
}

torch::Tensor CompressedSensingOperator::forward(const torch::Tensor& x) const {
  check_input(x);
  auto v = x.flatten(1) * constant_like(signs_, signs64_, x);
  auto rows = rows_.device() == x.device() ? rows_ : rows_.to(x.device());
  if (options_.transform == "dct") return dct_ortho(v).index_select(1, rows);
  auto X = torch::fft::fft(v, c10::nullopt, 1, "ortho").index_select(1, rows);
  return std::sqrt(2.0) * torch::cat({torch::real(X), torch::imag(X)}, 1);
}

std::string CompressedSensingOperator::describe() const {
  const auto& s = image_shape();
  return str_cat("cs(transform=", options_.transform, ", m=", m_, " of n=", n_, " (ratio ", option_value(options_.ratio),
                 "), random signs, image ", s[0], "x", s[1], "x", s[2], ", sigma_y=", option_value(noise().sigma_y),
                 ")");
}

OperatorEntry compressed_sensing_entry() {
  return make_operator_entry<CompressedSensingOperator>(
      "cs", "y = m random rows of an orthonormal DCT (or DFT) of sign-flipped pixels; A A^T = I; keyed per item",
      /*linear=*/true, OperatorCapabilities{/*svd=*/false, /*projector=*/true});
}

}  // namespace ipbench
