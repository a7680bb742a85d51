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
#include <utility>
#include <vector>

#include "core/options.h"
#include "models/schedule.h"
#include "models/unet.h"

namespace ipbench {

struct DiffusionOptions {
  std::string prediction = "eps";  ///< eps (the only one the trainer writes so far)
  VpScheduleOptions vp;  ///< T, beta_start, beta_end

  template <class F>
  void fields(F&& f) {
    f("prediction", prediction, "network output: eps");
    vp.fields(f);
  }
  void validate() const;
};

struct UNetCheckpoint {
  UNet model{nullptr};
  UNetOptions unet;
  DiffusionOptions diffusion;
  std::map<std::string, std::string> training;  ///< provenance from [training]
};

/// One section of a model.ini: its name and (key, value) lines in order.
struct IniSection {
  std::string name;
  std::vector<std::pair<std::string, std::string>> entries;
};

/// The section `name` with every field of an Options struct (doubles with the fewest digits that read
/// back exactly).
template <class O>
IniSection options_section(std::string name, O options) {
  IniSection s{std::move(name), {}};
  options.fields([&](const char* key, auto& value, const char*) { s.entries.emplace_back(key, option_value(value)); });
  return s;
}

/// The one model-folder writer (`ipbench train`'s UNet, `ipbench distill`'s consistency model): creates
/// `dir`, writes model.pt (torch::save of `net`), then model.ini: `comment` as a '; ' line (none when
/// empty), [unet] from the network's options, `sections` in order, then [training] provenance. Each file
/// is written atomically, weights first, so a model.ini never describes other weights. Throws Error
/// when a key would not read back (empty, '=', ';', '#', brackets, line breaks, surrounding spaces), a
/// section value holds ';', '#' or a line break, or a file cannot be written; [training] values are
/// provenance and are put on one line instead (line breaks, ';' and '#' become spaces).
void save_model_folder(const std::string& dir, UNet net, const std::string& comment,
                       const std::vector<IniSection>& sections, const std::map<std::string, std::string>& training);

/// Writes model.pt, then model.ini (each atomically) into `dir`, creating it if needed
/// (save_model_folder with [diffusion] from `diffusion`).
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
