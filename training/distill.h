#pragma once
// Consistency distillation (CD; Song et al., ICML 2023, Alg. 2) of a trained ipbench DDPM teacher into a
// consistency model (models/consistency.h), used by `ipbench distill` (docs/distillation.md).
//
// Teacher: the EMA UNet of a model folder from `ipbench train` (VP eps prediction), wrapped as a VE
// denoiser D(x, sigma) by models/vp_eps_denoiser.h. Noise levels: the N Karras sigmas (decreasing)
//   sigma_i = (smax^(1/rho) + i/(N-1) (smin^(1/rho) - smax^(1/rho)))^rho,  i = 0..N-1.
// Per step s = 0, 1, ... (0-based; "step k" elsewhere means k steps completed):
//   x0    = B images drawn uniformly WITH replacement          key (seed, "distill.batch", s)
//   n_b   ~ uniform integer in [0, N-2]                        key (seed, "distill.n", s)
//   z     ~ N(0, I) [B, C, H, W]                               key (seed, "distill.z", s)
//   t_hi  = sigma_n, t_lo = sigma_{n+1}  (t_hi > t_lo),   x_hi = x0 + t_hi z
//   teacher PF-ODE step (no gradient):  d = (x_hi - D(x_hi, t_hi)) / t_hi,  x_lo = x_hi + (t_lo - t_hi) d;
//     Heun (heun = true):  d' = (x_lo - D(x_lo, t_lo)) / t_lo,  x_lo = x_hi + (t_lo - t_hi) (d + d') / 2
//   loss  = mean_b dist(f_student(x_hi, t_hi), f_target(x_lo, t_lo))    (target: no gradient)
//     l2:           dist(a, b) = mean over C, H, W of (a - b)^2           (openai "l2")
//     pseudo_huber: dist(a, b) = sqrt(||a - b||^2 + c^2) - c, c = 0.00054 sqrt(C H W)   (Song & Dhariwal 2023)
// then an Adam step on the student, the target EMA  target = mu target + (1 - mu) student  (mu =
// target_ema_decay) and the saved EMA  ema = d ema + (1 - d) student  (d = ema_decay).
// f is evaluated without clamping during training (as openai's consistency_losses).
// The student starts as an exact copy of the teacher's network (init_from_teacher) or from the keyed
// init UNet(options, derive_key(seed, "distill.init")); target and EMA start as copies of it.
// No draw uses a global RNG, so on the CPU (same thread count) a resumed run is bitwise identical to an
// uninterrupted one.
//
// The output folder:
//   model.ini, model.pt   the saved-EMA consistency model (models/consistency.h), [training] provenance
//   train_state.pt        student, target, EMA, Adam state, step, loss EMA, seconds (for --resume)
//   distill_log.csv       step,loss,seconds every log_every steps (loss = the loss EMA, decay 0.99)
//   samples_step<K>_1step.png   f(smax z0, smax) of the EMA model (clamped), fixed noise
//   samples_step<K>_2step.png   then x = x0 + sqrt(s2^2 - smin^2) z1 and f(x, s2), s2 = sample_sigma
// Checkpoints are written every checkpoint_every steps and at the end, each file atomically (temporary
// file, then rename), model folder first: a killed run leaves the last complete checkpoint behind.
//
// Errors (ipbench::Error): invalid options; a teacher folder that is missing, corrupt or not a VP eps
// model; data that does not fit the teacher or the student (named); dropout > 0 (global RNG); a fresh run
// in a folder that already holds a run; resume without, or with a corrupt, train_state.pt, or with an
// architecture or [consistency] options that differ from the checkpoint's (named). A non-finite loss is
// not thrown: distillation stops before the optimizer step, no checkpoint is written and the result's
// status says so.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/options.h"
#include "models/consistency.h"
#include "models/unet.h"

namespace ipbench {

struct DistillOptions {
  /// Training images: an ipbench HDF5 file or "fashion-mnist:train" (datasets/dataset.h).
  std::string data = "fashion-mnist:train";
  /// Pad importer images to pad_to x pad_to (0 = native size); for an HDF5 file 0 or its H (= W).
  int64_t pad_to = 32;
  /// Use only the first max_images images (0 = all).
  int64_t max_images = 0;
  /// Total optimizer steps (a resumed run continues up to this number).
  int64_t steps = 2000;
  /// Images per step (drawn with replacement).
  int64_t batch_size = 32;
  /// Adam learning rate (constant; openai CD: 8e-6 to 4e-4 depending on the data set).
  double lr = 1e-4;
  /// Adam's moment decay rates.
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  /// mu: EMA decay of the target network (paper / openai CD: 0.95, fixed).
  double target_ema_decay = 0.95;
  /// EMA decay of the saved (sampled) weights (openai: 0.999 among its rates; suits short runs).
  double ema_decay = 0.999;
  /// Karras discretization: number of noise levels (paper CIFAR-10 CD: 18).
  int64_t N = 18;
  /// Noise range of the discretization and of the consistency model, and the schedule exponent
  /// (EDM / openai: 0.002, 80, 7).
  KarrasOptions karras;
  /// Data scale of the consistency model (EDM / openai: 0.5).
  double sigma_data = 0.5;
  /// How the student's network enters the consistency function (models/consistency.h): vp_eps (the
  /// student is a VP eps UNet, f = c_skip x + (1 - c_skip) D(x, sigma); with init_from_teacher it starts
  /// as the teacher's denoiser) or edm (openai's F(c_in x, c_noise)). The VP schedule is the teacher's.
  std::string parameterization = "vp_eps";
  /// Teacher ODE step: Heun (2 teacher evaluations, the paper's choice) or Euler (1).
  bool heun = true;
  /// Distance of the consistency loss: l2 | pseudo_huber.
  std::string loss = "l2";
  /// Student initialized from the teacher's weights (paper) or freshly (keyed init).
  bool init_from_teacher = true;
  /// Write a checkpoint every checkpoint_every steps (and always at the end).
  int64_t checkpoint_every = 500;
  /// Write sample grids every sample_every steps (and at the end); 0 = at every checkpoint.
  int64_t sample_every = 0;
  /// Images per sample grid (ceil(sqrt(n)) columns).
  int64_t sample_count = 64;
  /// Noise level of the second step of the 2-step sample grid (Alg. 3 with one intermediate level).
  double sample_sigma = 2.0;
  /// Root of every key (batches, levels, noise, init, samples).
  int64_t seed = 0;
  /// auto | cpu | cuda | cuda:N.
  std::string device = "auto";
  /// fp32 | bf16 | fp16: teacher, target and student forward passes under autocast
  /// (training/mixed_precision.h; fp16 adds dynamic loss scaling and needs CUDA).
  std::string precision = "fp32";
  /// Intra-op threads (0 = all cores).
  int64_t threads = 0;
  /// Progress line on stderr and a distill_log.csv row every log_every steps.
  int64_t log_every = 50;
  /// No progress lines on stderr (distill_log.csv is still written).
  bool quiet = false;

  template <class F>
  void fields(F&& f) {
    f("data", data, "training images: HDF5 file or fashion-mnist:train");
    f("pad_to", pad_to, "pad importer images to N x N (0 = native); HDF5: 0 or its size");
    f("max_images", max_images, "use the first max_images images (0 = all), >= 0");
    f("steps", steps, "total optimizer steps, >= 1");
    f("batch_size", batch_size, "images per step (with replacement), >= 1");
    f("lr", lr, "Adam learning rate, > 0");
    f("adam_beta1", adam_beta1, "Adam beta1, in [0, 1)");
    f("adam_beta2", adam_beta2, "Adam beta2, in [0, 1)");
    f("target_ema_decay", target_ema_decay, "mu: EMA decay of the target network, in [0, 1)");
    f("ema_decay", ema_decay, "EMA decay of the saved weights, in [0, 1)");
    f("N", N, "Karras noise levels of the discretization, >= 2");
    karras.fields(f);  // sigma_min (the boundary condition f(x, sigma_min) = x), sigma_max, rho
    f("sigma_data", sigma_data, "data standard deviation of the CM scalings, > 0");
    f("parameterization", parameterization, "vp_eps (student = VP eps UNet, starts as the teacher's denoiser) | edm");
    f("heun", heun, "teacher step: Heun (true) or Euler (false)");
    f("loss", loss, "consistency distance: l2 | pseudo_huber");
    f("init_from_teacher", init_from_teacher, "start the student from the teacher's weights");
    f("checkpoint_every", checkpoint_every, "checkpoint every N steps (and at the end), >= 1");
    f("sample_every", sample_every, "sample grids every N steps (and at the end); 0 = checkpoint_every");
    f("sample_count", sample_count, "images per sample grid, >= 1");
    f("sample_sigma", sample_sigma, "noise level of the 2-step grid's second step, in (sigma_min, sigma_max)");
    f("seed", seed, "root of every random key, >= 0");
    f("device", device, "auto | cpu | cuda | cuda:N");
    f("precision", precision, "fp32 | bf16 (autocast) | fp16 (autocast + loss scaling, CUDA)");
    f("threads", threads, "intra-op threads (0 = all cores), >= 0");
    f("log_every", log_every, "progress line and distill_log.csv row every N steps, >= 1");
    f("quiet", quiet, "no progress lines on stderr");
  }
  /// Throws Error naming field, value and rule.
  void validate() const;
  /// sample_every with 0 resolved to checkpoint_every.
  int64_t sample_interval() const { return sample_every > 0 ? sample_every : checkpoint_every; }
  /// The consistency model's [consistency] options.
  ConsistencyOptions consistency() const;
};

enum class DistillStatus {
  kCompleted,  ///< reached `steps` (possibly already at the start of a resumed run)
  kNonFinite,  ///< stopped: the loss of step `last_step` (0-based) was NaN or infinite
};
const char* to_string(DistillStatus s);

struct DistillResult {
  DistillStatus status = DistillStatus::kCompleted;
  int64_t start_step = 0;          ///< steps completed when this call began (the checkpoint's, on resume)
  int64_t last_step = 0;           ///< steps completed when it returned
  std::vector<double> losses;      ///< loss of every step run by this call, in order
  double loss_ema = std::nan("");  ///< EMA (decay 0.99) of the loss over the whole run; NaN before step 1
  double seconds = 0;              ///< wall time of this call (setup included)
  double step_seconds = 0;         ///< wall time of this call's steps and checkpoints only
  double total_seconds = 0;        ///< distillation wall time accumulated across resumes
  std::string device;              ///< device used
  int threads = 0;                 ///< intra-op threads used
  int64_t parameters = 0;          ///< trainable parameters of the student
  int64_t images = 0;              ///< training images used
  std::string precision = "fp32";  ///< precision used
  int64_t skipped_steps = 0;       ///< fp16: steps skipped for inf/NaN gradients, across resumes
  /// One line: status, steps, loss, time.
  std::string brief() const;
};

/// Distills the teacher in `teacher_dir` (a model folder of `ipbench train`) into a consistency model in
/// `out_dir` (or, with `resume`, continues that run) as described above. `student` is the student's
/// architecture when init_from_teacher = false (nullopt: the teacher's); it must be nullopt when
/// init_from_teacher = true (Error otherwise). `command_line` is recorded in the provenance.
DistillResult distill_consistency(const DistillOptions& options, const std::string& teacher_dir,
                                  const std::string& out_dir, bool resume, const std::string& command_line,
                                  const std::optional<UNetOptions>& student = std::nullopt);

}  // namespace ipbench
