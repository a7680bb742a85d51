#pragma once
// TrainState: everything a training run needs to continue exactly where it stopped.
//
// train_state.pt is one torch::serialize archive:
//   model, ema        the trained network and its EMA (nested module archives)
//   optimizer         AdamW's state (moments and step counts per parameter, param groups)
//   step              steps completed (int64), loss_ema (float64), seconds (float64)
//   loss_scale, loss_scale_growth, loss_scale_skipped   the fp16 loss scaler (LossScaler::save)
// save_train_state writes "<path>.tmp-<pid>" and renames it over `path`, so a good checkpoint is
// never replaced by a partial one. load_train_state throws Error naming the file when it is missing,
// unreadable or does not match the model (a different architecture).
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>

#include "models/unet.h"
#include "training/mixed_precision.h"

namespace ipbench {

struct TrainState {
  UNet model{nullptr};
  UNet ema{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimizer;
  int64_t step = 0;       ///< steps completed
  double loss_ema = 0;    ///< EMA of the loss (meaningless while step = 0)
  double seconds = 0;     ///< training wall time accumulated across resumes, up to `step`
  LossScaler scaler;      ///< fp16 loss scale (disabled otherwise)
};

/// A fresh state on `device`: UNet(options, init_seed), EMA = an exact copy, AdamW over the model's
/// parameters with the given options.
TrainState make_train_state(const UNetOptions& options, uint64_t init_seed, const torch::optim::AdamWOptions& adam,
                            torch::Device device);

void save_train_state(const std::string& path, const TrainState& state);

/// Loads `path` into `state` (built by make_train_state with the checkpoint's architecture); the
/// optimizer's hyper-parameters are reset to `adam` (the checkpoint's are replaced by the current ones).
void load_train_state(const std::string& path, TrainState& state, const torch::optim::AdamWOptions& adam,
                      torch::Device device);

/// ema = decay * ema + (1 - decay) * model for parameters; buffers copied. No autograd.
void update_ema(UNet& ema, const UNet& model, double decay);

}  // namespace ipbench
