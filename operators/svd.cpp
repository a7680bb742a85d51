#include "operators/svd.h"

#include <algorithm>

#include "core/error.h"

namespace ipbench {

namespace F = torch::nn::functional;

std::string OperatorCapabilities::describe(bool linear) const {
  if (!linear) return "nonlinear: forward and autograd only";
  if (svd) return "closed-form SVD, A^+, prox and Gaussian step";
  if (projector) return "equal singular values: A^+ = A^T/c^2, closed-form prox and Gaussian step (no SVD)";
  return "true adjoint only: A^+, prox and Gaussian step by conjugate gradients (no SVD)";
}

torch::Tensor OperatorSvd::s_like(const torch::Tensor& x) const {
  if (s_cache_.defined() && s_cache_.scalar_type() == x.scalar_type() && s_cache_.device() == x.device())
    return s_cache_;
  auto s = s64_.to(x.device(), x.scalar_type());
  s_cache_ = s;
  return s;
}

torch::Tensor OperatorSvd::kept_like(const torch::Tensor& x, double cutoff) const {
  const auto s = s_like(x);
  return (s > 0) & (s >= cutoff);
}

namespace {
// Singular values below rel * max are rounding noise of an exactly singular matrix: 0.
torch::Tensor clean_singular_values(torch::Tensor s) {
  const double smax = s.numel() > 0 ? s.max().item<double>() : 0.0;
  return torch::where(s > 1e-12 * smax, s, torch::zeros_like(s));
}
}  // namespace

DiagonalSvd::DiagonalSvd(const torch::Tensor& m, const std::vector<int64_t>& image_shape) {
  TORCH_CHECK(image_shape.size() == 3, "DiagonalSvd: image_shape must be [C, H, W]");
  // A negative diagonal entry is |m| with the sign in U; the built-ins have m >= 0.
  TORCH_CHECK((m >= 0).all().item<bool>(), "DiagonalSvd: diagonal entries must be >= 0");
  s64_ = m.to(torch::kDouble).expand(image_shape).contiguous();
}

torch::Tensor DiagonalSvd::Ut_embed(const torch::Tensor& y) const {
  return torch::where(s_like(y) > 0, y, torch::zeros_like(y));
}

torch::Tensor DiagonalSvd::U(const torch::Tensor& c) const {
  return torch::where(s_like(c) > 0, c, torch::zeros_like(c));
}

ChannelSvd::ChannelSvd(const torch::Tensor& w, const std::vector<int64_t>& image_shape) {
  TORCH_CHECK(image_shape.size() == 3 && w.numel() == image_shape[0], "ChannelSvd: w must have C entries");
  const int64_t C = image_shape[0];
  auto w64 = w.to(torch::kDouble).flatten();
  const double norm = w64.norm().item<double>();
  TORCH_CHECK(norm > 0, "ChannelSvd: w must be nonzero");
  auto u = w64 / norm;
  // Householder reflection H = I - 2 v v^T / v^T v with v = u - e_0 maps e_0 to u; H is symmetric, so
  // its row 0 is u^T and its rows are orthonormal.
  auto e0 = torch::zeros({C}, torch::kDouble);
  e0[0] = 1.0;
  auto v = u - e0;
  const double vv = v.dot(v).item<double>();
  q64_ = vv > 1e-30 ? torch::eye(C, torch::kDouble) - 2.0 * torch::outer(v, v) / vv : torch::eye(C, torch::kDouble);
  s64_ = torch::zeros(image_shape, torch::kDouble);
  s64_[0].fill_(norm);
}

torch::Tensor ChannelSvd::Vt(const torch::Tensor& x) const {
  return torch::einsum("ij,bjhw->bihw", {q64_.to(x.device(), x.scalar_type()), x});
}

torch::Tensor ChannelSvd::V(const torch::Tensor& c) const {
  return torch::einsum("ji,bjhw->bihw", {q64_.to(c.device(), c.scalar_type()), c});
}

torch::Tensor ChannelSvd::Ut_embed(const torch::Tensor& y) const {
  const int64_t C = s64_.size(0);
  if (C == 1) return y;
  return torch::cat({y, torch::zeros_like(y).expand({y.size(0), C - 1, y.size(2), y.size(3)})}, 1);
}

torch::Tensor ChannelSvd::U(const torch::Tensor& c) const { return c.narrow(1, 0, 1); }

SeparableSvd::SeparableSvd(const torch::Tensor& mh, const torch::Tensor& mw, const std::vector<int64_t>& image_shape)
    : mh_(mh.size(0)), mw_(mw.size(0)) {
  TORCH_CHECK(image_shape.size() == 3 && mh.size(1) == image_shape[1] && mw.size(1) == image_shape[2] &&
                  mh_ <= mh.size(1) && mw_ <= mw.size(1),
              "SeparableSvd: Mh [mh, H] and Mw [mw, W] with mh <= H and mw <= W required");
  auto pad_to = [](const torch::Tensor& s, int64_t n) {
    return F::pad(s, F::PadFuncOptions({0, n - s.size(0)}));
  };
  auto [uh, sh, vht] = torch::linalg_svd(mh.to(torch::kDouble), /*full_matrices=*/true);
  auto [uw, sw, vwt] = torch::linalg_svd(mw.to(torch::kDouble), /*full_matrices=*/true);
  uh64_ = uh;
  vh64_ = vht.t().contiguous();
  uw64_ = uw;
  vw64_ = vwt.t().contiguous();
  const int64_t H = image_shape[1], W = image_shape[2];
  auto s2 = clean_singular_values(torch::outer(pad_to(sh, H), pad_to(sw, W)));
  s64_ = s2.unsqueeze(0).expand(image_shape).contiguous();
  factor64_ = torch::minimum(pad_to(sh, H).unsqueeze(1), pad_to(sw, W).unsqueeze(0)).unsqueeze(0).expand(image_shape)
                  .contiguous();
}

torch::Tensor SeparableSvd::kept_like(const torch::Tensor& x, double cutoff) const {
  return (s_like(x) > 0) & (factor64_.to(x.device()) >= cutoff);
}

torch::Tensor SeparableSvd::Vt(const torch::Tensor& x) const {
  auto vh = vh64_.to(x.device(), x.scalar_type()), vw = vw64_.to(x.device(), x.scalar_type());
  return torch::matmul(torch::matmul(vh.t(), x), vw);
}

torch::Tensor SeparableSvd::V(const torch::Tensor& c) const {
  auto vh = vh64_.to(c.device(), c.scalar_type()), vw = vw64_.to(c.device(), c.scalar_type());
  return torch::matmul(torch::matmul(vh, c), vw.t());
}

torch::Tensor SeparableSvd::Ut_embed(const torch::Tensor& y) const {
  auto uh = uh64_.to(y.device(), y.scalar_type()), uw = uw64_.to(y.device(), y.scalar_type());
  auto c = torch::matmul(torch::matmul(uh.t(), y), uw);
  const int64_t H = vh64_.size(0), W = vw64_.size(0);
  c = F::pad(c, F::PadFuncOptions({0, W - mw_, 0, H - mh_}));
  return torch::where(s_like(c) > 0, c, torch::zeros_like(c));
}

torch::Tensor SeparableSvd::U(const torch::Tensor& c) const {
  auto uh = uh64_.to(c.device(), c.scalar_type()), uw = uw64_.to(c.device(), c.scalar_type());
  auto r = torch::where(s_like(c) > 0, c, torch::zeros_like(c)).narrow(2, 0, mh_).narrow(3, 0, mw_);
  return torch::matmul(torch::matmul(uh, r), uw.t());
}

torch::Tensor convolution_matrix_1d(const torch::Tensor& taps, int64_t n, const std::string& padding) {
  const int64_t k = taps.size(0), r = (k - 1) / 2;
  TORCH_CHECK(k % 2 == 1 && (padding != "reflect" || r < n), "convolution_matrix_1d: odd taps, reflect needs r < n");
  auto t = taps.to(torch::kDouble).contiguous();
  auto m = torch::zeros({n, n}, torch::kDouble);
  auto acc = m.accessor<double, 2>();
  const double* tp = t.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j) {
      int64_t idx = i + j - r;
      if (idx < 0 || idx >= n) {
        if (padding == "zeros") continue;
        if (padding == "circular") {
          idx = ((idx % n) + n) % n;
        } else {  // reflect without repeating the edge: -1 -> 1, n -> n - 2
          idx = idx < 0 ? -idx : 2 * (n - 1) - idx;
        }
      }
      acc[i][idx] += tp[j];
    }
  return m;
}

torch::Tensor block_average_matrix_1d(int64_t n, int64_t f) {
  TORCH_CHECK(f >= 1 && n % f == 0, "block_average_matrix_1d: n must be divisible by f");
  auto m = torch::zeros({n / f, n}, torch::kDouble);
  for (int64_t i = 0; i < n / f; ++i) m[i].narrow(0, i * f, f).fill_(1.0 / static_cast<double>(f));
  return m;
}

}  // namespace ipbench
