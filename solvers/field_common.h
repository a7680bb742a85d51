#pragma once
// Pieces shared by the field's solvers (specs/solvers-2.md 0.8): VP skip grids in VE sigmas, the
// measurement noise level a solver assumes, one denoiser call at a scalar sigma.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/denoiser.h"
#include "noise/noise_stream.h"
#include "operators/operator.h"

namespace ipbench {

/// "VP skip grid, N steps" of the linear DDPM schedule (T = 1000): t = (N-1) skip, ..., skip, 0 with
/// skip = T / N, as VE sigmas sigma(t) = sqrt((1 - abar_t)/abar_t), then 0 appended (N + 1 values).
/// N = 20: sigma(950), ..., sigma(0), 0;  N = 100: sigma(990), ..., sigma(0), 0.
std::vector<double> vp_skip_sigmas(int64_t steps, int64_t T = 1000);

/// RePaint's jump schedule (`get_schedule_jump`, used by DDNM's time travel): respaced step indices
/// from steps - 1 down to -1 (the end); after reaching each multiple j of `length` below steps - length,
/// up to `repeat - 1` times, it climbs back `length` indices one at a time before descending again.
/// repeat = 1: steps - 1, ..., 0, -1 (no travel). E.g. (5, 1, 2): 4 3 4 3 2 3 2 1 2 1 0 1 0 -1.
std::vector<int64_t> jump_schedule(int64_t steps, int64_t length, int64_t repeat);

/// vp_skip_sigmas(steps) along a jump schedule: VE sigma(k skip) per index k, 0 for -1. A step to a
/// larger sigma is a time-travel move (re-noising), to a smaller one a sampler step.
std::vector<double> vp_skip_sigma_path(int64_t steps, int64_t length, int64_t repeat);

/// A time-travel move of a sigma path (k -> k + 1 with path[k + 1] > path[k]): true, and `state` becomes
/// pred + path[k + 1] z with one draw of pred's sample shape; a climb's intermediate move (the next one
/// re-noises again) skips its draw instead. false for a descending move (state untouched).
bool time_travel(const std::vector<double>& path, size_t k, const torch::Tensor& pred, NoiseStream& noise,
                 torch::Tensor& state);

/// The measurement noise std (model units) a solver assumes: `option` when >= 0, else the operator's
/// (sigma_y for noise = gaussian, 0 for none; poisson: sigma_y as a Gaussian surrogate).
double assumed_sigma_y(double option, const Operator& op);

/// D(x, sigma) at one scalar sigma for the whole batch.
torch::Tensor denoise_at(const Denoiser& prior, const torch::Tensor& x, double sigma);

/// The prior's image shape; Error naming `solver` when the prior accepts any shape.
std::vector<int64_t> solver_image_shape(const Denoiser& prior, const std::string& solver);

}  // namespace ipbench
