// TrainState: creation, EMA update and the train_state.pt archive (see train_state.h).
#include "training/train_state.h"

#include <filesystem>

#include "core/error.h"
#include "training/run_folder.h"

namespace ipbench {

namespace {

void reset_adam_options(torch::optim::AdamW& optimizer, const torch::optim::AdamWOptions& adam) {
  for (auto& group : optimizer.param_groups())
    static_cast<torch::optim::AdamWOptions&>(group.options()) = adam;
}

}  // namespace

TrainState make_train_state(const UNetOptions& options, uint64_t init_seed, const torch::optim::AdamWOptions& adam,
                            torch::Device device) {
  TrainState s;
  s.model = UNet(options, init_seed);
  s.ema = UNet(options, init_seed);  // the same keyed init: an exact copy
  s.model->to(device);
  s.ema->to(device);
  for (auto& p : s.ema->parameters()) p.set_requires_grad(false);
  s.optimizer = std::make_unique<torch::optim::AdamW>(s.model->parameters(), adam);
  return s;
}

void update_ema(UNet& ema, const UNet& model, double decay) {
  torch::NoGradGuard no_grad;
  const auto ep = ema->parameters(), mp = model->parameters();
  TORCH_CHECK(ep.size() == mp.size(), "update_ema: models differ");
  for (size_t i = 0; i < ep.size(); ++i) ep[i].mul_(decay).add_(mp[i].detach(), 1.0 - decay);
  const auto eb = ema->buffers(), mb = model->buffers();
  TORCH_CHECK(eb.size() == mb.size(), "update_ema: model buffers differ");
  for (size_t i = 0; i < eb.size(); ++i) eb[i].copy_(mb[i]);
}

void save_train_state(const std::string& path, const TrainState& state) {
  torch::serialize::OutputArchive archive, model, ema, optimizer;
  state.model->save(model);
  state.ema->save(ema);
  state.optimizer->save(optimizer);
  archive.write("model", model);
  archive.write("ema", ema);
  archive.write("optimizer", optimizer);
  archive.write("step", torch::tensor(state.step, torch::kLong));
  archive.write("loss_ema", torch::tensor(state.loss_ema, torch::kDouble));
  archive.write("seconds", torch::tensor(state.seconds, torch::kDouble));
  state.scaler.save(archive);
  save_archive_atomic(archive, path, "training state");
}

void load_train_state(const std::string& path, TrainState& state, const torch::optim::AdamWOptions& adam,
                      torch::Device device) {
  require(std::filesystem::is_regular_file(path), path,
          ": no training state to resume from (missing; was the run started in this folder?)");
  try {
    torch::serialize::InputArchive archive, model, ema, optimizer;
    archive.load_from(path, device);
    archive.read("model", model);
    archive.read("ema", ema);
    archive.read("optimizer", optimizer);
    state.model->load(model);
    state.ema->load(ema);
    state.optimizer->load(optimizer);
    state.step = read_scalar<int64_t>(archive, "step");
    state.loss_ema = read_scalar<double>(archive, "loss_ema");
    state.seconds = read_scalar<double>(archive, "seconds");
    state.scaler.load(archive);
  } catch (const std::exception& e) {
    throw Error(str_cat(path, ": cannot resume from this training state (corrupt, or written for another ",
                        "architecture): ", exception_message(e)));
  }
  reset_adam_options(*state.optimizer, adam);
  require(state.step >= 0, path, ": corrupt training state (step = ", state.step, ")");
}

}  // namespace ipbench
