#include "models/group_norm.h"

#include <ATen/Parallel.h>

#include <vector>

namespace ipbench {
namespace {

// dx for one (sample, group): the D channels' rows of HxW values, summed serially in double.
// With xhat = (x - mean) rstd and g_c the channel scale, y = g_c xhat + b_c gives
//   dx = g_c rstd dy + c2 x + c3,  c2 = (sum(g dy) mean - sum(g dy x)) rstd^3 / M,
//   c3 = -c2 mean - sum(g dy) rstd / M,  M = D * HxW  (LibTorch's GroupNormInputBackward, same formula).
template <typename T>
void input_gradient(const T* dy, const T* x, const T* gamma, T* dx, int64_t D, int64_t HxW, double mean,
                    double rstd) {
  double s_dyx = 0, s_dy = 0;
  for (int64_t c = 0; c < D; ++c) {
    const double g = gamma ? static_cast<double>(gamma[c]) : 1.0;
    double ds = 0, db = 0;
    for (int64_t i = c * HxW; i < (c + 1) * HxW; ++i) {
      ds += static_cast<double>(dy[i]) * static_cast<double>(x[i]);
      db += static_cast<double>(dy[i]);
    }
    s_dyx += g * ds;
    s_dy += g * db;
  }
  const double inv_m = 1.0 / static_cast<double>(D * HxW);
  const double c2 = (s_dy * mean - s_dyx) * rstd * rstd * rstd * inv_m;
  const double c3 = -c2 * mean - s_dy * rstd * inv_m;
  for (int64_t c = 0; c < D; ++c) {
    const double a = (gamma ? static_cast<double>(gamma[c]) : 1.0) * rstd;
    for (int64_t i = c * HxW; i < (c + 1) * HxW; ++i)
      dx[i] = static_cast<T>(a * static_cast<double>(dy[i]) + c2 * static_cast<double>(x[i]) + c3);
  }
}

class DeterministicGroupNorm : public torch::autograd::Function<DeterministicGroupNorm> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias, int64_t groups, double eps) {
    const auto x_c = x.contiguous();
    const int64_t N = x_c.size(0), C = x_c.size(1), HxW = C > 0 && N > 0 ? x_c.numel() / (N * C) : 0;
    auto out = at::native_group_norm(x_c, weight, bias, N, C, HxW, groups, eps);
    ctx->save_for_backward({x_c, weight, bias, std::get<1>(out), std::get<2>(out)});
    ctx->saved_data["groups"] = groups;
    return std::get<0>(out);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &weight = saved[1], &mean = saved[3], &rstd = saved[4];  // saved[2]: bias
    const int64_t G = ctx->saved_data["groups"].toInt();
    const torch::Tensor dy = grads[0].contiguous();
    const int64_t N = x.size(0), C = x.size(1), HxW = N * C > 0 ? x.numel() / (N * C) : 0, D = C / G;
    torch::Tensor dx, dweight, dbias;
    if (ctx->needs_input_grad(0)) {
      dx = torch::empty_like(x);
      const torch::Tensor mean_d = mean.to(torch::kDouble).contiguous(), rstd_d = rstd.to(torch::kDouble).contiguous();
      const double* mu = mean_d.data_ptr<double>();
      const double* rs = rstd_d.data_ptr<double>();
      const torch::Tensor w = weight.defined() ? weight.to(x.scalar_type()).contiguous() : torch::Tensor();
      AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "ipbench::group_norm_backward", [&] {
        const scalar_t* dy_p = dy.data_ptr<scalar_t>();
        const scalar_t* x_p = x.data_ptr<scalar_t>();
        const scalar_t* w_p = w.defined() ? w.data_ptr<scalar_t>() : nullptr;
        scalar_t* dx_p = dx.data_ptr<scalar_t>();
        // Threads split the (sample, group) list only; each group is one serial computation.
        at::parallel_for(0, N * G, 1, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) {
            const int64_t off = i * D * HxW;
            input_gradient(dy_p + off, x_p + off, w_p ? w_p + (i % G) * D : nullptr, dx_p + off, D, HxW, mu[i], rs[i]);
          }
        });
      });
    }
    if (ctx->needs_input_grad(1) || ctx->needs_input_grad(2)) {  // training: LibTorch's scale/shift gradients
      auto g = at::native_group_norm_backward(dy, x, mean, rstd, weight, N, C, HxW, G,
                                              {false, ctx->needs_input_grad(1), ctx->needs_input_grad(2)});
      if (ctx->needs_input_grad(1)) dweight = std::get<1>(g);
      if (ctx->needs_input_grad(2)) dbias = std::get<2>(g);
    }
    return {dx, dweight, dbias, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor group_norm(const torch::Tensor& x, int64_t groups, const torch::Tensor& weight,
                         const torch::Tensor& bias, double eps) {
  const bool ours = x.device().is_cpu() && (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble) &&
                    x.dim() >= 2 && x.requires_grad() && torch::GradMode::is_enabled() && groups > 0 &&
                    x.size(1) % groups == 0 && (!weight.defined() || weight.scalar_type() == x.scalar_type());
  if (!ours) return torch::group_norm(x, groups, weight, bias, eps);
  return DeterministicGroupNorm::apply(x, weight, bias, groups, eps);
}

torch::Tensor group_norm(const torch::nn::GroupNorm& norm, const torch::Tensor& x) {
  const auto& o = norm->options;
  return group_norm(x, o.num_groups(), norm->weight, norm->bias, o.eps());
}

}  // namespace ipbench
