#pragma once
// DDNM / DDNM+: zero-shot image restoration by range-null space decomposition (Wang, Yu, Zhang,
// ICLR 2023), specs/solvers-2.md section 2; official code wyhuai/DDNM @ 00b58ea
// (functions/svd_ddnm.py ddnm_diffusion / ddnm_plus_diffusion, guided_diffusion/diffusion.py
// simplified_ddnm_plus).
//
// VP skip grid, N steps (default 100: sigma(990), ..., sigma(0), 0); X = sigma_0 z_0 (draw 0).
// variant = ddnm (sigma_y = 0; any linear A through A^+: operators' SVD, projector or CG):
//   D = D(X, sigma);  ehat = (X - D)/sigma;  xhat0 = D - A^+(A D - y)
//   X = xhat0 + sigma' (sqrt(1 - eta^2) ehat + eta z)              draw z (dead at sigma' = 0: skipped)
//   The output is the last xhat0: A x = y exactly (to the precision of A^+).
// variant = plus (sigma_y > 0; closed-form SVD): DDRM's coefficient rules (solvers/ddrm.h) with
//   eta_b = 1 and the pure-noise init, which is what Lambda / Lambda_noise compute.
// variant = simplified (README Eq. 17/19 as intended, any A with A^+):
//   lambda = min(1, sigma'/sigma_y);  gamma = sqrt(max(0, sigma'^2 - lambda^2 sigma_y^2))
//   xhat0 = D - lambda A^+(A D - y);  X = xhat0 + gamma (sqrt(1 - eta^2) ehat + eta z)
//   gamma = 0 once sigma' <= sigma_y removes all noise, null space included: a warning is printed.
// variant = auto (default): ddnm when the assumed sigma_y is 0, plus otherwise (the official switch
//   on `sigma_y`). Requirements: auto and plus need a closed-form SVD; ddnm and simplified any
//   linear operator.
// Time travel (travel_length L, travel_repeat r; official default 1, 1: none): the steps follow RePaint's
//   jump schedule (field_common.h jump_schedule): after each multiple of L, r - 1 times, the sampler
//   climbs L steps back up by re-noising the last UNPROJECTED prediction, X = D_last + sigma_up z (one
//   draw per move; a climb's intermediate moves are dead: skipped), then descends again. All variants.
//   NFE = the schedule's descending moves, N + (r - 1) L ceil((N - L)/L) (N = 100, L = 1, r = 2: 199, as
//   InverseBench's ddnm.yaml).
// Random draws (indices): z_0 and one per move of the path, gaussians of shape x; the last step's and a
//   climb's intermediate moves are dead (skipped). Without travel: N (z_0 + N-1 live + the last).
#include "solvers/solver.h"

namespace ipbench {

struct DdnmOptions {
  /// VP skip-grid steps = NFE (configs/celeba_hq.yml T_sampling 100).
  int64_t steps = 100;
  /// DDRM-eta in [0, 1] (main.py --eta 0.85).
  double eta = 0.85;
  /// auto | ddnm | plus | simplified.
  std::string variant = "auto";
  /// Measurement noise std the solver assumes (model units); -1 = the operator's sigma_y.
  double sigma_y = -1.0;
  /// CG iterations of A^+ when the operator has no closed form (specs/solvers-2.md 0.11).
  int64_t cg_iterations = 100;
  /// ddnm / simplified: A^+ counts singular values below this as 0, as the official A_pinv (its H
  /// functions zero 1-D singular values < 3e-2 for deblurring and SR) does; plus uses the exact SVD.
  double svd_cutoff = 3e-2;
  /// Time travel (RePaint jump schedule): climb back travel_length steps, travel_repeat - 1 times after
  /// each multiple of travel_length (official default 1, 1: no travel; InverseBench 1, 2).
  int64_t travel_length = 1;
  int64_t travel_repeat = 1;

  template <class F>
  void fields(F&& f) {
    f("steps", steps, "VP skip-grid steps = NFE, 1..1000 (DDNM celeba_hq.yml: 100)");
    f("eta", eta, "DDRM-eta in [0, 1] (DDNM main.py: 0.85)");
    f("variant", variant, "auto (ddnm if sigma_y = 0, else plus) | ddnm | plus (SVD) | simplified (warned)");
    f("sigma_y", sigma_y, "assumed measurement noise std, model units; -1 = the operator's sigma_y");
    f("cg_iterations", cg_iterations, "CG iterations of A^+ without a closed form, >= 1 (100)");
    f("svd_cutoff", svd_cutoff, "ddnm / simplified: A^+ drops singular values below it (official A_pinv: 3e-2), >= 0");
    f("travel_length", travel_length, "time travel: steps climbed back per jump, >= 1 (DDNM default 1)");
    f("travel_repeat", travel_repeat,
      "time travel: visits of each jump point, >= 1; 1 = no travel (DDNM default 1; InverseBench 2)");
  }
  void validate() const;
  /// The VE sigma path: vp_skip_sigma_path(steps, travel_length, travel_repeat).
  std::vector<double> sigma_path() const;
};

class DdnmSolver : public Solver {
 public:
  explicit DdnmSolver(DdnmOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  Requirements requirements() const override;
  int64_t nfe_per_sample() const override;
  std::string describe() const override;

 private:
  DdnmOptions options_;
};

}  // namespace ipbench
