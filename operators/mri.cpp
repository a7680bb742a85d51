#include "operators/mri.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/options.h"
#include "core/rng.h"

namespace ipbench {

void MriOptions::validate() const {
  check_option(mask == "uniform1d" || mask == "gaussian1d" || mask == "gaussian2d" || mask == "radial", "MriOptions",
               "mask", mask, "mask in {uniform1d, gaussian1d, gaussian2d, radial}");
  check_option(std::isfinite(acceleration) && acceleration >= 1, "MriOptions", "acceleration", acceleration,
               "acceleration >= 1");
  check_option(std::isfinite(center_fraction) && center_fraction >= 0 && center_fraction < 1, "MriOptions",
               "center_fraction", center_fraction, "0 <= center_fraction < 1");
  check_option(coils >= 1 && coils <= 32, "MriOptions", "coils", coils, "1 <= coils <= 32");
  check_option(image == "real" || image == "complex", "MriOptions", "image", image, "image in {real, complex}");
}

torch::Tensor fft2c(const torch::Tensor& u) {
  const std::vector<int64_t> dims{-2, -1};
  return torch::fft::fftshift(torch::fft::fft2(torch::fft::ifftshift(u, dims), c10::nullopt, dims, "ortho"), dims);
}

torch::Tensor ifft2c(const torch::Tensor& u) {
  const std::vector<int64_t> dims{-2, -1};
  return torch::fft::fftshift(torch::fft::ifft2(torch::fft::ifftshift(u, dims), c10::nullopt, dims, "ortho"), dims);
}

namespace {

constexpr double kPi = 3.14159265358979323846;

// k of the candidates without replacement with probabilities proportional to `weight` (Efraimidis &
// Spirakis: the k largest log(u) / w).
std::vector<int64_t> weighted_choice(const std::vector<int64_t>& candidates, const std::vector<double>& weight,
                                     int64_t k, KeyedGenerator& g) {
  std::vector<std::pair<double, int64_t>> keyed;
  for (size_t i = 0; i < candidates.size(); ++i) keyed.push_back({std::log(g.uniform()) / weight[i], candidates[i]});
  k = std::min<int64_t>(k, static_cast<int64_t>(keyed.size()));
  std::partial_sort(keyed.begin(), keyed.begin() + k, keyed.end(),
                    [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<int64_t> out;
  for (int64_t i = 0; i < k; ++i) out.push_back(keyed[i].second);
  return out;
}

double gauss(double d, double std) { return std::exp(-0.5 * d * d / (std * std)); }

// Central block [start, start + n) of an axis of length `size` (fastMRI's pad = (size - n + 1) / 2).
int64_t block_start(int64_t size, int64_t n) { return (size - n + 1) / 2; }

void add_spoke(torch::TensorAccessor<double, 2>& a, int64_t H, int64_t W, double theta) {
  const double reach = static_cast<double>(std::max(H, W));
  for (double t = -reach; t <= reach; t += 0.5) {
    const auto r = static_cast<int64_t>(std::lround(static_cast<double>(H / 2) + t * std::sin(theta)));
    const auto c = static_cast<int64_t>(std::lround(static_cast<double>(W / 2) + t * std::cos(theta)));
    if (r >= 0 && r < H && c >= 0 && c < W) a[r][c] = 1.0;
  }
}

}  // namespace

torch::Tensor mri_mask(const MriOptions& o, int64_t H, int64_t W, uint64_t key) {
  KeyedGenerator g(key);
  auto mask = torch::zeros({H, W}, torch::kDouble);
  auto a = mask.accessor<double, 2>();
  const bool one_d = o.mask == "uniform1d" || o.mask == "gaussian1d";
  if (one_d) {
    const auto nc = static_cast<int64_t>(std::llround(o.center_fraction * static_cast<double>(W)));
    const auto target = std::max<int64_t>(1, std::llround(static_cast<double>(W) / o.acceleration));
    require(nc <= target, "operator 'mri': center_fraction = ", option_value(o.center_fraction), " keeps ", nc,
            " central columns, more than the ", target, " of acceleration = ", option_value(o.acceleration),
            " on W = ", W, ". Violated: round(center_fraction W) <= round(W / acceleration)");
    const int64_t start = block_start(W, nc);
    std::vector<int64_t> cols, candidates;
    std::vector<double> weights;
    for (int64_t c = 0; c < W; ++c) {
      if (c >= start && c < start + nc) {
        cols.push_back(c);
        continue;
      }
      candidates.push_back(c);
      weights.push_back(o.mask == "uniform1d" ? 1.0 : gauss(static_cast<double>(c - W / 2), 0.25 * W));
    }
    for (auto c : weighted_choice(candidates, weights, target - nc, g)) cols.push_back(c);
    for (auto c : cols) mask.select(1, c).fill_(1.0);
    return mask;
  }
  const auto bh = static_cast<int64_t>(std::llround(o.center_fraction * static_cast<double>(H)));
  const auto bw = static_cast<int64_t>(std::llround(o.center_fraction * static_cast<double>(W)));
  const auto target = std::max<int64_t>(1, std::llround(static_cast<double>(H * W) / o.acceleration));
  require(bh * bw <= target, "operator 'mri': center_fraction = ", option_value(o.center_fraction), " keeps a ", bh,
          "x", bw, " central block, more than the ", target, " locations of acceleration = ",
          option_value(o.acceleration), ". Violated: round(f H) round(f W) <= round(H W / acceleration)");
  const int64_t r0 = block_start(H, bh), c0 = block_start(W, bw);
  if (bh > 0 && bw > 0) mask.narrow(0, r0, bh).narrow(1, c0, bw).fill_(1.0);
  if (o.mask == "gaussian2d") {
    std::vector<int64_t> candidates;
    std::vector<double> weights;
    for (int64_t r = 0; r < H; ++r)
      for (int64_t c = 0; c < W; ++c) {
        if (a[r][c] != 0) continue;
        candidates.push_back(r * W + c);
        weights.push_back(gauss(static_cast<double>(r - H / 2), 0.25 * H) * gauss(static_cast<double>(c - W / 2), 0.25 * W));
      }
    for (auto i : weighted_choice(candidates, weights, target - bh * bw, g)) a[i / W][i % W] = 1.0;
    return mask;
  }
  // radial: the fewest spokes (evenly spaced, keyed rotation) that reach the target count.
  const double offset = g.uniform();
  const auto block = mask.clone();
  for (int64_t spokes = 1; spokes <= 4 * (H + W); ++spokes) {
    mask.copy_(block);
    for (int64_t j = 0; j < spokes; ++j)
      add_spoke(a, H, W, (offset + static_cast<double>(j)) * kPi / static_cast<double>(spokes));
    if (mask.sum().item<double>() >= static_cast<double>(target)) break;
  }
  return mask;
}

MriOperator::MriOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx)
    : Operator(noise, ctx.image_shape), options_(std::move(options)) {
  require_image_shape(ctx, "mri");
  const int64_t C = ctx.image_shape[0];
  H_ = ctx.image_shape[1];
  W_ = ctx.image_shape[2];
  require(options_.image == "real" || C == 2, "operator 'mri': image = complex needs 2 channels (real, imaginary), got C = ",
          C, ". Violated: C == 2");
  require(H_ >= 2 && W_ >= 2, "operator 'mri': image ", H_, "x", W_, " too small. Violated: H, W >= 2");
  channels_ = options_.image == "real" ? C : 1;
  mask64_ = mri_mask(options_, H_, W_, derive_key(ctx.key, hash_string("mri")));
  index_ = mask64_.flatten().nonzero().flatten().to(ctx.device);
  m_ = index_.size(0);
  drawn_ = str_cat(options_.mask, " R=", option_value(options_.acceleration), " (sampled ", m_, "/", H_ * W_, " = ",
                   option_value(static_cast<double>(m_) / static_cast<double>(H_ * W_)), ")");

  const int64_t K = options_.coils;
  if (K > 1) {
    // Smooth maps: Gaussian magnitude around a coil outside the image, phase = coil offset + a ramp.
    auto ys = (torch::arange(H_, torch::kDouble) - H_ / 2).div(std::max<int64_t>(H_ / 2, 1)).view({1, H_, 1});
    auto xs = (torch::arange(W_, torch::kDouble) - W_ / 2).div(std::max<int64_t>(W_ / 2, 1)).view({1, 1, W_});
    auto ang = torch::arange(K, torch::kDouble).mul(2 * kPi / static_cast<double>(K)).view({K, 1, 1});
    auto cy = 1.5 * torch::sin(ang), cx = 1.5 * torch::cos(ang);
    auto d2 = (ys - cy).square() + (xs - cx).square();
    auto mag = torch::exp(-d2 / (2 * 1.6 * 1.6));  // 0.8 size = 1.6 half-sizes
    auto phase = ang + 0.5 * kPi * (xs * torch::cos(ang) + ys * torch::sin(ang));
    auto norm = mag.square().sum(0, true).sqrt();
    sens_re64_ = (mag * torch::cos(phase) / norm).contiguous();
    sens_im64_ = (mag * torch::sin(phase) / norm).contiguous();
    sens_re_ = sens_re64_.to(ctx.device, ctx.dtype);
    sens_im_ = sens_im64_.to(ctx.device, ctx.dtype);
  } else {
    sens_re64_ = torch::ones({1, H_, W_}, torch::kDouble);
    sens_im64_ = torch::zeros({1, H_, W_}, torch::kDouble);
  }
}

std::vector<int64_t> MriOperator::measurement_shape() const { return {channels_, options_.coils, m_, 2}; }

// Single coil: A = P F (complex images: orthonormal rows). For real images ||A|| = 1 is reached by the
// constant image when DC (H/2, W/2) is sampled; without DC it depends on the conjugate pairs sampled.
double MriOperator::known_norm() const {
  if (options_.coils != 1) return std::nan("");
  if (options_.image == "complex" || mask64_[H_ / 2][W_ / 2].item<double>() == 1.0) return 1.0;
  return std::nan("");
}

torch::Tensor MriOperator::coil_maps(const torch::Tensor& like) const {
  auto re = constant_like(sens_re_, sens_re64_, like), im = constant_like(sens_im_, sens_im64_, like);
  return torch::complex(re, im).unsqueeze(0).unsqueeze(0);
}

torch::Tensor MriOperator::forward(const torch::Tensor& x) const {
  check_input(x);
  auto z = options_.image == "real" ? torch::complex(x, torch::zeros_like(x))
                                    : torch::complex(x.narrow(1, 0, 1), x.narrow(1, 1, 1));
  auto u = z.unsqueeze(2);  // [B, C', 1, H, W]
  if (options_.coils > 1) u = u * coil_maps(x);
  auto k = fft2c(u).flatten(3);  // [B, C', K, H W]
  auto index = index_.device() == x.device() ? index_ : index_.to(x.device());
  return torch::view_as_real(k.index_select(3, index));
}

torch::Tensor MriOperator::adjoint(const torch::Tensor& y) const {
  check_measurement(y);
  const int64_t B = y.size(0), K = options_.coils;
  auto yc = torch::view_as_complex(y.contiguous());  // [B, C', K, m]
  auto index = index_.device() == y.device() ? index_ : index_.to(y.device());
  auto full = torch::zeros({B, channels_, K, H_ * W_}, yc.options()).index_copy(3, index, yc);
  auto u = ifft2c(full.view({B, channels_, K, H_, W_}));
  u = K > 1 ? (u * coil_maps(y).conj()).sum(2) : u.squeeze(2);  // [B, C', H, W]
  return options_.image == "real" ? torch::real(u).contiguous() : torch::cat({torch::real(u), torch::imag(u)}, 1);
}

std::string MriOperator::describe() const {
  const auto& s = image_shape();
  return str_cat("mri(", drawn_, ", center_fraction=", option_value(options_.center_fraction), ", coils=",
                 options_.coils, ", image=", options_.image, " ", s[0], "x", s[1], "x", s[2],
                 ", sigma_y=", option_value(noise().sigma_y), ")");
}

OperatorEntry mri_entry() {
  return make_operator_entry<MriOperator>(
      "mri", "y = sampled k-space of a centered orthonormal FFT (single/multi-coil; uniform1d, gaussian1d/2d, radial)",
      /*linear=*/true);
}

}  // namespace ipbench
