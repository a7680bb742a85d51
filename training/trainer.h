#pragma once
// Training a UNet as a DDPM eps-prediction model (Ho et al., NeurIPS 2020), used by `ipbench train`.
//
// Per step s = 0, 1, ... (0-based; "step N" elsewhere means N steps completed):
//   x0   = B images drawn uniformly WITH replacement      key (seed, "train.batch", s)
//   t_b  ~ uniform integer in [0, T)                       key (seed, "train.t", s)
//   eps  ~ N(0, I) [B, C, H, W]                            key (seed, "train.eps", s)
//   x_t  = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps   (linear VpSchedule of DiffusionOptions)
//   loss = mean((net(x_t, t) - eps)^2)
// (the forward pass under autocast for precision = bf16 / fp16, with dynamic loss scaling for fp16:
// training/mixed_precision.h), then AdamW with a linear LR warmup lr_s = lr * min(1, (s + 1) / warmup_steps), gradient clipping
// to global L2 norm grad_clip, and an EMA of the weights ema = d ema + (1 - d) w (buffers copied).
// The network is initialized by UNetImpl(options, derive_key(seed, "train.init")); the EMA starts
// as a copy. No draw uses a global RNG, so on the CPU (same thread count) a run resumed from a
// checkpoint is bitwise identical to one that was never interrupted.
//
// The output folder (docs/training.md):
//   model.ini, model.pt   the EMA model (models/unet_checkpoint.h): what the `unet` prior reads
//   train_state.pt        model, EMA model, optimizer state, step, loss EMA, seconds (for --resume)
//   train_log.csv         step,loss,lr,seconds every log_every steps (loss = the loss EMA)
//   samples_step<N>.png   sample grid of the EMA model (DDPM ancestral sampling, fixed noise)
// Checkpoints are written every checkpoint_every steps and at the end, atomically, model folder
// first: a killed run leaves the last complete checkpoint behind.
//
// Errors (ipbench::Error): invalid options; data that does not fit the UNet (channels / image size,
// both named); UNetOptions::dropout > 0 (dropout draws from LibTorch's global RNG); a fresh run in a
// folder that already holds a run; resume without, or with a corrupt, train_state.pt, or with an
// architecture or diffusion schedule that differs from the checkpoint's (both named).
// A non-finite loss is not thrown: training stops before the optimizer step, no checkpoint is
// written (the last one stays intact) and the result's status says so.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/options.h"
#include "models/unet.h"
#include "models/unet_checkpoint.h"

namespace ipbench {

struct TrainOptions {
  /// Training images: an ipbench HDF5 file or "fashion-mnist:train" (datasets/dataset.h).
  std::string data = "fashion-mnist:train";
  /// Pad importer images to pad_to x pad_to (0 = native size); for an HDF5 file 0 or its H (= W).
  int64_t pad_to = 32;
  /// Use only the first max_images images (0 = all).
  int64_t max_images = 0;
  /// Total optimizer steps (a resumed run continues up to this number).
  int64_t steps = 4000;
  /// Images per step (drawn with replacement).
  int64_t batch_size = 64;
  /// Peak learning rate of AdamW (DDPM: 2e-4).
  double lr = 2e-4;
  /// AdamW's decoupled weight decay (0 = plain Adam).
  double weight_decay = 0.0;
  /// AdamW's moment decay rates.
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  /// Linear LR warmup over the first warmup_steps steps (0 = none).
  int64_t warmup_steps = 100;
  /// Clip gradients to this global L2 norm (0 = no clipping; DDPM: 1).
  double grad_clip = 1.0;
  /// EMA decay of the sampled / saved weights (DDPM: 0.9999 for 800k steps; 0.999 suits short runs).
  double ema_decay = 0.999;
  /// Write a checkpoint every checkpoint_every steps (and always at the end).
  int64_t checkpoint_every = 500;
  /// Write a sample grid every sample_every steps (and at the end); 0 = at every checkpoint.
  int64_t sample_every = 0;
  /// Images in the sample grid (a square-ish grid of ceil(sqrt(n)) columns).
  int64_t sample_count = 64;
  /// Respaced DDPM steps used for the sample grid.
  int64_t sample_steps = 100;
  /// Root of every key (batches, timesteps, noise, init, samples).
  int64_t seed = 0;
  /// auto | cpu | cuda | cuda:N.
  std::string device = "auto";
  /// fp32 | bf16 | fp16 (training/mixed_precision.h; fp16 needs CUDA).
  std::string precision = "fp32";
  /// Intra-op threads (0 = all cores).
  int64_t threads = 0;
  /// Progress line on stderr and a train_log.csv row every log_every steps.
  int64_t log_every = 50;
  /// No progress lines on stderr (train_log.csv is still written).
  bool quiet = false;

  template <class F>
  void fields(F&& f) {
    f("data", data, "training images: HDF5 file or fashion-mnist:train");
    f("pad_to", pad_to, "pad importer images to N x N (0 = native); HDF5: 0 or its size");
    f("max_images", max_images, "use the first max_images images (0 = all), >= 0");
    f("steps", steps, "total optimizer steps, >= 1");
    f("batch_size", batch_size, "images per step (with replacement), >= 1");
    f("lr", lr, "peak AdamW learning rate, > 0");
    f("weight_decay", weight_decay, "AdamW decoupled weight decay, >= 0");
    f("adam_beta1", adam_beta1, "AdamW beta1, in [0, 1)");
    f("adam_beta2", adam_beta2, "AdamW beta2, in [0, 1)");
    f("warmup_steps", warmup_steps, "linear LR warmup steps (0 = none), >= 0");
    f("grad_clip", grad_clip, "clip gradients to this global L2 norm (0 = off), >= 0");
    f("ema_decay", ema_decay, "EMA decay of the saved weights, in [0, 1)");
    f("checkpoint_every", checkpoint_every, "checkpoint every N steps (and at the end), >= 1");
    f("sample_every", sample_every, "sample grid every N steps (and at the end); 0 = checkpoint_every");
    f("sample_count", sample_count, "images in the sample grid, >= 1");
    f("sample_steps", sample_steps, "respaced DDPM steps for samples, 1..T");
    f("seed", seed, "root of every random key, >= 0");
    f("device", device, "auto | cpu | cuda | cuda:N");
    f("precision", precision, "fp32 | bf16 (autocast) | fp16 (autocast + loss scaling, CUDA)");
    f("threads", threads, "intra-op threads (0 = all cores), >= 0");
    f("log_every", log_every, "progress line and train_log.csv row every N steps, >= 1");
    f("quiet", quiet, "no progress lines on stderr");
  }
  /// Throws Error naming field, value and rule. (sample_steps <= T is checked by train_unet.)
  void validate() const;
  /// sample_every with 0 resolved to checkpoint_every.
  int64_t sample_interval() const { return sample_every > 0 ? sample_every : checkpoint_every; }
};

enum class TrainStatus {
  kCompleted,  ///< reached `steps` (possibly already at the start of a resumed run)
  kNonFinite,  ///< stopped: the loss of step `last_step` (0-based) was NaN or infinite
};
const char* to_string(TrainStatus s);

struct TrainResult {
  TrainStatus status = TrainStatus::kCompleted;
  int64_t start_step = 0;          ///< steps completed when this call began (the checkpoint's, on resume)
  int64_t last_step = 0;           ///< steps completed when it returned
  std::vector<double> losses;      ///< loss of every step run by this call, in order
  double loss_ema = std::nan("");  ///< EMA (decay 0.99) of the loss over the whole run; NaN before step 1
  double seconds = 0;              ///< wall time of this call
  double total_seconds = 0;        ///< training wall time accumulated across resumes
  std::string device;              ///< device used
  int threads = 0;                 ///< intra-op threads used
  int64_t parameters = 0;          ///< trainable parameters of the UNet
  int64_t images = 0;              ///< training images used
  std::string precision = "fp32";  ///< precision used
  int64_t skipped_steps = 0;       ///< fp16: steps skipped for inf/NaN gradients, across resumes
  /// One line: status, steps, loss, time.
  std::string brief() const;
};

/// Trains (or, with `resume`, continues training) a UNet in `out_dir` as described above.
/// `command_line` is recorded in the checkpoint's provenance.
TrainResult train_unet(const TrainOptions& options, const UNetOptions& unet, const DiffusionOptions& diffusion,
                       const std::string& out_dir, bool resume, const std::string& command_line);

}  // namespace ipbench
