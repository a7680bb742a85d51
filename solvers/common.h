#pragma once
// Pieces shared by the solvers: the per-sample data fit, EDM/Karras step sizes, CM-source options.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/consistency_fn.h"
#include "models/schedule.h"
#include "operators/operator.h"
#include "solvers/solver.h"

namespace ipbench {

/// Per-sample data fit op.loss(A(x), y): [B]; ||y - A(x)||_2 for every operator but those with another
/// likelihood (`torchscript` with loss = cross_entropy). The official DPS code flattens the whole batch; see docs.
torch::Tensor data_fit_norm(const Operator& op, const torch::Tensor& x, const torch::Tensor& y);

/// ||y - A(x)||^2 per sample [B]: the squared residual for linear operators (no sqrt: a finite gradient at
/// a zero residual), else data_fit_norm^2 (the operator's loss).
torch::Tensor data_fit_squared(const Operator& op, const torch::Tensor& x, const torch::Tensor& y);

/// grad_x ||y - A(x)||^2 / (2 sigma_y^2) by autograd (enabled inside, whatever the caller's grad mode).
torch::Tensor data_fit_gradient(const Operator& op, const torch::Tensor& x, const torch::Tensor& y, double sigma_y);

/// Euler-ancestral split (eta = 1) of a step s -> s_next: s_up = sqrt(s_next^2 (s^2 - s_next^2)/s^2),
/// s_down = sqrt(s_next^2 - s_up^2). s_next = 0 gives (0, 0).
void ancestral_split(double s, double s_next, double& s_up, double& s_down);

/// Where a CM solver's consistency function comes from (see models/consistency_fn.h).
struct CmSourceOptions {
  /// <model folder> | ode | gaussian | torchscript:<file>; required.
  std::string consistency = "";
  /// Heun steps of consistency = ode (2 denoiser evaluations each).
  int64_t ode_steps = 18;

  template <class F>
  void fields(F&& f) {
    f("consistency", consistency, "consistency model: <model folder> | ode | gaussian | torchscript:<file> (required)");
    f("ode_steps", ode_steps, "Heun steps of consistency = ode, >= 1 (2 NFE each)");
  }
  void validate(const char* owner) const;
  ConsistencySource source(double sigma_min, double rho, bool clip) const {
    return {consistency, ode_steps, sigma_min, rho, clip};
  }
};

/// Requirements of the CM solvers (cm_dps, cm_inversion, cm_sample): a consistency function. Item-batch
/// safe: y only per sample, through data_fit_norm (cm_dps, cm_inversion: Adam is elementwise) or not at all.
inline Requirements cm_requirements() {
  Requirements r = Requirements::batched();
  r.consistency_model = true;
  return r;
}

/// A [B] tensor filled with s, in x's dtype and device.
inline torch::Tensor sigma_like(const torch::Tensor& x, double s) {
  return torch::full({x.size(0)}, s, x.options().requires_grad(false));
}

/// Validates a CM timestep list: non-empty, strictly increasing, within [0, steps-1]; `min_size` entries.
void validate_ts(const char* owner, const std::vector<int64_t>& ts, int64_t steps, size_t min_size);

/// "0, 17, 39" for messages.
std::string join_ints(const std::vector<int64_t>& v);

}  // namespace ipbench
