#pragma once
// EDM Euler-ancestral samplers on the Karras noise levels (specs/solvers.md 0.5, 0.6, 4):
//
//   cm_dps           CM-posterior DPS ("Proposed I", [XU] sample_euler_ancestral_cm)
//   dps_edm          DPS on an EDM trajectory: the same loop with F = D carrying the gradient ([XU]'s baseline)
//   euler_ancestral  unconditional Euler ancestral (eta = 1), no guidance
//
//   sigmas = Karras(steps, smin, smax, rho) + [0];   x = smax z_T                          draw 0
//   for i = 0 .. steps-1:   (s = sigma_i, s' = sigma_{i+1}; s_up, s_down = ancestral_split(s, s'))
//     cm_dps:  D = clamp(D(x, s)) without gradient;  F = clamp(f(x, s)) with gradient in x
//     dps_edm: D = F = clamp(D(x, s)) with gradient in x
//     cm_dps:  F = F + r xi_i  when r > 0                                              draw xi_i (r = 0: skipped)
//     L_b = || y - A(F_b) ||_2  per sample;  g = grad_x sum_b L_b
//     x = x + ((x - D)/s)(s_down - s) + s_up z_i - zeta s g                            draw z_i (last step: s_up = 0, skipped)
//   return clamp(x, -1, 1)
// Clamps apply when clip_denoised. Per step, draws in this order: xi_i (cm_dps), z_i.
// NFE per sample: euler_ancestral and dps_edm: steps; cm_dps: steps (1 + CM evaluations per call).
#include "solvers/common.h"
#include "solvers/solver.h"

namespace ipbench {

struct EulerAncestralOptions {
  /// Karras noise levels sigma_0 = sigma_max > ... > sigma_{steps-1} = sigma_min (then 0 appended).
  int64_t steps = 1000;
  KarrasOptions karras;
  /// Clamp D(x, sigma) and the output to [-1, 1].
  bool clip_denoised = true;

  template <class F>
  void fields(F&& f) {
    f("steps", steps, "Karras noise levels = sampler steps, >= 1 (official 1000)");
    karras.fields(f);
    f("clip_denoised", clip_denoised, "clamp D and the output to [-1, 1] (official true)");
  }
  void validate() const;
};

struct DpsEdmOptions {
  /// Guidance step size; the step is zeta * sigma_i * grad ([XU]: 6.4 Gaussian deblur, 14.4 SR x4).
  double zeta = 6.4;
  int64_t steps = 1000;
  KarrasOptions karras;
  bool clip_denoised = true;

  template <class F>
  void fields(F&& f) {
    f("zeta", zeta, "guidance step size, > 0; the step is zeta * sigma_i * grad ([XU]: 6.4 deblur, 14.4 SR)");
    f("steps", steps, "Karras noise levels = sampler steps, >= 1 (official 1000)");
    karras.fields(f);
    f("clip_denoised", clip_denoised, "clamp D and the output to [-1, 1] (official true)");
  }
  void validate() const;
};

struct CmDpsOptions {
  /// Guidance step size; the step is zeta * sigma_i * grad ([XU]: 6.4 Gaussian deblur, 14.4 SR x4).
  double zeta = 6.4;
  /// "Randomness back": F + r xi_i before the loss ([XU]: 0.2 for neural-network operators, 0 otherwise).
  double r = 0.0;
  int64_t steps = 1000;
  KarrasOptions karras;
  /// Clamp D, f and the output to [-1, 1].
  bool clip_denoised = true;
  /// The consistency function f.
  CmSourceOptions cm;

  template <class F>
  void fields(F&& f) {
    f("zeta", zeta, "guidance step size, > 0; the step is zeta * sigma_i * grad ([XU]: 6.4 deblur, 14.4 SR)");
    f("r", r, "randomness back: std of noise added to f before the loss, >= 0 ([XU] 0.2 for NN operators)");
    f("steps", steps, "Karras noise levels = sampler steps, >= 1 (official 1000)");
    karras.fields(f);
    f("clip_denoised", clip_denoised, "clamp D, f and the output to [-1, 1] (official true)");
    cm.fields(f);
  }
  void validate() const;
};

class EulerAncestralSolver : public Solver {
 public:
  explicit EulerAncestralSolver(EulerAncestralOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  /// Item-batch safe: ignores the measurement.
  Requirements requirements() const override { return euler_ancestral_requirements(); }
  int64_t nfe_per_sample() const override { return options_.steps; }
  std::string describe() const override;
  static Requirements euler_ancestral_requirements() {
    return Requirements::batched();
  }

 private:
  EulerAncestralOptions options_;
};

class DpsEdmSolver : public Solver {
 public:
  explicit DpsEdmSolver(DpsEdmOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  /// Item-batch safe (audited: y only through the operator's loss, per sample, as DPS; test_cross_item).
  Requirements requirements() const override { return dps_edm_requirements(); }
  int64_t nfe_per_sample() const override { return options_.steps; }
  std::string describe() const override;
  static Requirements dps_edm_requirements() {
    return Requirements::batched();
  }

 private:
  DpsEdmOptions options_;
};

class CmDpsSolver : public Solver {
 public:
  explicit CmDpsSolver(CmDpsOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  Requirements requirements() const override { return cm_requirements(); }
  std::optional<ConsistencySource> consistency_source() const override {
    return options_.cm.source(options_.karras.sigma_min, options_.karras.rho, options_.clip_denoised);
  }
  int64_t nfe_per_sample() const override;
  std::string describe() const override;

 private:
  CmDpsOptions options_;
};

}  // namespace ipbench
