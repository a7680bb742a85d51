#pragma once
// The model folder of a trained ipbench UNet (written by `ipbench train`, read by the `unet` prior).
//
//   DIR/model.ini        [unet] UNetOptions, [diffusion] prediction = eps, T, beta_start, beta_end,
//                        [training] provenance (step, loss, command, seconds, ...: free-form keys)
//   DIR/model.pt         the EMA weights (torch::save of the UNet module)
//   DIR/train_state.pt   everything needed to resume training (written by training/, not read here)
// Files are written atomically (temporary file, then rename), so a killed writer never leaves a
// partial model behind.
#include <map>
#include <string>

#include "models/schedule.h"
#include "models/unet.h"

namespace ipbench {

struct DiffusionOptions {
  std::string prediction = "eps";  ///< eps (the only one the trainer writes so far)
  int64_t T = 1000;
  double beta_start = 1e-4;
  double beta_end = 0.02;

  template <class F>
  void fields(F&& f) {
    f("prediction", prediction, "network output: eps");
    f("T", T, "timesteps of the linear VP schedule, >= 2");
    f("beta_start", beta_start, "first beta, in (0, 1)");
    f("beta_end", beta_end, "last beta, in [beta_start, 1)");
  }
  void validate() const;
};

struct UNetCheckpoint {
  UNet model{nullptr};
  UNetOptions unet;
  DiffusionOptions diffusion;
  std::map<std::string, std::string> training;  ///< provenance from [training]
};

/// Writes model.pt, then model.ini (each atomically) into `dir`, creating it if needed. Doubles are
/// written with the fewest digits that read back exactly. Throws Error when a [training] key or value
/// would not read back unchanged (';', '#', '=' in keys, line breaks, surrounding spaces) or a file
/// cannot be written.
void save_unet_checkpoint(const std::string& dir, UNet model, const DiffusionOptions& diffusion,
                          const std::map<std::string, std::string>& training);

/// Reads a model folder onto `device` in eval mode. Throws Error naming the file when it is missing
/// or corrupt, for invalid options or any unknown section or key in model.ini (every [training] key is
/// read into `training`), and when the weights do not match the architecture options of model.ini:
/// every tensor name and shape of model.pt is compared with the UNet before anything is copied
/// (torch::load alone would adopt wrongly shaped tensors and ignore extra ones).
UNetCheckpoint load_unet_checkpoint(const std::string& dir, torch::Device device = torch::kCPU);

/// Copies the weights of `weights_path` (a torch::save of a UNet) into `model`, after checking that
/// every tensor name and shape matches `model`'s architecture. Throws Error naming `weights_path` when
/// the file is unreadable or corrupt, and naming both `weights_path` and `architecture_source` (the
/// file the options came from, e.g. model.ini) with the first differences when they do not match.
/// Use it instead of torch::load, which adopts wrongly shaped tensors and ignores extra ones.
void load_unet_weights(UNet& model, const std::string& weights_path, const std::string& architecture_source);

}  // namespace ipbench
