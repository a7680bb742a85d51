// The DDPM training loop (see trainer.h): setup, keyed batches, steps, checkpoints, logs, samples.
#include "training/trainer.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/config.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/runtime.h"
#include "datasets/dataset.h"
#include "models/schedule.h"
#include "training/mixed_precision.h"
#include "training/sample_grid.h"
#include "training/train_state.h"
#include "training/run_folder.h"

namespace ipbench {

namespace fs = std::filesystem;

void TrainOptions::validate() const {
  const char* o = "TrainOptions";
  check_option(!data.empty(), o, "data", data, "data names an HDF5 file or fashion-mnist:train");
  check_option(pad_to >= 0, o, "pad_to", pad_to, "pad_to >= 0");
  check_option(max_images >= 0, o, "max_images", max_images, "max_images >= 0");
  check_option(steps >= 1, o, "steps", steps, "steps >= 1");
  check_option(batch_size >= 1, o, "batch_size", batch_size, "batch_size >= 1");
  check_option(lr > 0, o, "lr", lr, "lr > 0");
  check_option(weight_decay >= 0, o, "weight_decay", weight_decay, "weight_decay >= 0");
  check_option(adam_beta1 >= 0 && adam_beta1 < 1, o, "adam_beta1", adam_beta1, "0 <= adam_beta1 < 1");
  check_option(adam_beta2 >= 0 && adam_beta2 < 1, o, "adam_beta2", adam_beta2, "0 <= adam_beta2 < 1");
  check_option(warmup_steps >= 0, o, "warmup_steps", warmup_steps, "warmup_steps >= 0");
  check_option(grad_clip >= 0, o, "grad_clip", grad_clip, "grad_clip >= 0 (0 = off)");
  check_option(ema_decay >= 0 && ema_decay < 1, o, "ema_decay", ema_decay, "0 <= ema_decay < 1");
  check_option(checkpoint_every >= 1, o, "checkpoint_every", checkpoint_every, "checkpoint_every >= 1");
  check_option(sample_every >= 0, o, "sample_every", sample_every, "sample_every >= 0 (0 = checkpoint_every)");
  check_option(sample_count >= 1, o, "sample_count", sample_count, "sample_count >= 1");
  check_option(sample_steps >= 1, o, "sample_steps", sample_steps, "sample_steps >= 1");
  check_option(seed >= 0, o, "seed", seed, "seed >= 0");
  check_option(!device.empty(), o, "device", device, "device is auto, cpu, cuda or cuda:N");
  parse_precision(precision, "TrainOptions::precision");
  check_option(threads >= 0, o, "threads", threads, "threads >= 0 (0 = all cores)");
  check_option(log_every >= 1, o, "log_every", log_every, "log_every >= 1");
}

const char* to_string(TrainStatus s) {
  switch (s) {
    case TrainStatus::kCompleted: return "completed";
    case TrainStatus::kNonFinite: return "stopped: non-finite loss";
  }
  return "?";
}

std::string TrainResult::brief() const {
  return run_brief(to_string(status), start_step, last_step, loss_ema, seconds, total_seconds,
                   precision_label(device, precision, skipped_steps), threads);
}

namespace {

// ---------------------------------------------------------------------------------------------
// Setup: options, data, output folder.

void check_setup(const TrainOptions& o, const UNetOptions& unet, const DiffusionOptions& diffusion) {
  o.validate();
  unet.validate();
  diffusion.validate();
  require(diffusion.prediction == "eps", "[diffusion] prediction = ", diffusion.prediction,
          ": the trainer only trains eps prediction");
  require(unet.out_channels == unet.in_channels, "[unet] out_channels = ", unet.out_channels, " but in_channels = ",
          unet.in_channels, ": an eps model outputs as many channels as it takes");
  require(unet.dropout == 0, "[unet] dropout = ", unet.dropout,
          ": dropout is not supported by the trainer (LibTorch's dropout draws from its global RNG, which would "
          "break keyed determinism and exact resume); use dropout = 0");
  require(o.sample_steps <= diffusion.vp.T, "TrainOptions::sample_steps = ", o.sample_steps,
          ". Violated: sample_steps <= [diffusion] T = ", diffusion.vp.T);
}

// [N, C, H, W] float32 on `device`; Error when it does not fit the UNet.
torch::Tensor load_training_images(const TrainOptions& o, const UNetOptions& unet, torch::Device device) {
  Dataset d = load_dataset_source(o.data, o.pad_to, 0, o.max_images > 0 ? o.max_images : -1);
  const auto& x = d.images;
  require(x.size(1) == unet.in_channels && x.size(2) == unet.image_size && x.size(3) == unet.image_size,
          "training data '", o.data, "' holds images of ", x.size(1), "x", x.size(2), "x", x.size(3),
          " (C x H x W), but the UNet expects ", unet.in_channels, "x", unet.image_size, "x", unet.image_size,
          " ([unet] in_channels = ", unet.in_channels, ", image_size = ", unet.image_size, ")");
  return x.to(device, torch::kFloat).contiguous();
}

// The architecture and schedule of an existing run must be the ones we were given.
void check_resume_matches(const fs::path& dir, const UNetOptions& unet, const DiffusionOptions& diffusion) {
  const fs::path state = dir / "train_state.pt";
  require(fs::is_regular_file(state), state.string(),
          ": no training state to resume from (missing; start the run without --resume, or check the folder)");
  const std::string ini = (dir / "model.ini").string();
  require(fs::is_regular_file(ini), ini, ": missing, cannot check the architecture of the run to resume");
  const Config config = Config::from_file(ini);
  require_same(unet, read_options<UNetOptions>(config.section("unet")), "unet", ini);
  require_same(diffusion, read_options<DiffusionOptions>(config.section("diffusion")), "diffusion", ini);
}

// ---------------------------------------------------------------------------------------------
// train_log.csv

constexpr const char* kLogHeader = "step,loss,lr,seconds";

// ---------------------------------------------------------------------------------------------
// The run: one struct holding what every step needs.

struct Run {
  TrainOptions o;
  UNetOptions unet;
  DiffusionOptions diffusion;
  fs::path dir;
  std::string command_line;
  torch::Device device = torch::kCPU;
  Precision precision = Precision::kFloat32;
  torch::Tensor images;                  // [N, C, H, W] on device
  torch::Tensor sqrt_abar, sqrt_1m_abar;  // [T] float32 on device
  TrainState state;
  torch::optim::AdamWOptions adam{0};
  TrainResult result;
  Clock::time_point start, last_log;
  int64_t last_log_step = 0;
};

torch::optim::AdamWOptions adam_options(const TrainOptions& o) {
  return torch::optim::AdamWOptions(o.lr)
      .betas({o.adam_beta1, o.adam_beta2})
      .weight_decay(o.weight_decay)
      .eps(1e-8);
}

// Learning rate of 0-based step s: linear warmup to lr over warmup_steps steps.
double lr_at(const TrainOptions& o, int64_t s) {
  return o.warmup_steps > 0 ? o.lr * std::min(1.0, static_cast<double>(s + 1) / o.warmup_steps) : o.lr;
}

void init_schedule(Run& r) {
  const VpSchedule schedule = r.diffusion.vp.schedule();
  torch::Tensor abar = torch::empty({r.diffusion.vp.T}, torch::kDouble);
  for (int64_t t = 0; t < r.diffusion.vp.T; ++t) abar[t] = schedule.abar(t);
  r.sqrt_abar = abar.sqrt().to(r.device, torch::kFloat);
  r.sqrt_1m_abar = (1 - abar).sqrt().to(r.device, torch::kFloat);
}

struct Batch {
  torch::Tensor x_t, t, eps;
};

Batch make_batch(const Run& r, int64_t s) {
  const auto seed = static_cast<uint64_t>(r.o.seed);
  const auto step = static_cast<uint64_t>(s);
  const int64_t B = r.o.batch_size;
  const torch::Tensor idx = keyed_ints(derive_key(seed, hash_string("train.batch"), step), B, 0,
                                       r.images.size(0) - 1, r.device);
  const torch::Tensor t = keyed_ints(derive_key(seed, hash_string("train.t"), step), B, 0, r.diffusion.vp.T - 1, r.device);
  const torch::Tensor x0 = r.images.index_select(0, idx);
  const torch::Tensor eps = keyed_normal(x0.sizes(), derive_key(seed, hash_string("train.eps"), step)).to(r.device);
  const torch::Tensor a = r.sqrt_abar.index_select(0, t).view({B, 1, 1, 1});
  const torch::Tensor b = r.sqrt_1m_abar.index_select(0, t).view({B, 1, 1, 1});
  return {a * x0 + b * eps, t.to(torch::kFloat), eps};
}

// One optimizer step; returns the loss (the step is not applied when it is not finite).
double train_step(Run& r, int64_t s) {
  const Batch batch = make_batch(r, s);
  r.state.model->train();
  r.state.optimizer->zero_grad();
  torch::Tensor loss;
  {
    AutocastScope autocast(r.precision, r.device.type());
    // The network's output may be bf16/fp16; eps is float32, so the difference and the mean are float32.
    loss = (r.state.model->forward(batch.x_t, batch.t) - batch.eps).square().mean();
  }
  const double value = loss.item<double>();
  if (!std::isfinite(value)) return value;
  r.state.scaler.scale(loss).backward();
  const auto parameters = r.state.model->parameters();
  const bool finite_grads = r.state.scaler.unscale(parameters);
  if (finite_grads) {
    if (r.o.grad_clip > 0) torch::nn::utils::clip_grad_norm_(parameters, r.o.grad_clip);
    for (auto& group : r.state.optimizer->param_groups()) group.options().set_lr(lr_at(r.o, s));
    r.state.optimizer->step();
    update_ema(r.state.ema, r.state.model, r.o.ema_decay);
  }
  r.state.scaler.update(finite_grads);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Output: log rows and progress lines, checkpoints, sample grids.

void log_step(Run& r, int64_t done) {
  const double total_seconds = r.state.seconds + elapsed_since(r.start);
  {
    std::ofstream csv(r.dir / "train_log.csv", std::ios::app);
    csv.precision(8);
    csv << done << "," << r.state.loss_ema << "," << lr_at(r.o, done - 1) << "," << total_seconds << "\n";
  }
  const double rate = (done - r.last_log_step) / std::max(1e-9, elapsed_since(r.last_log));
  r.last_log = Clock::now();
  r.last_log_step = done;
  if (r.o.quiet) return;
  std::fprintf(stderr, "train step %lld/%lld | loss %.5f | lr %.2e | %.2f steps/s | ETA %s\n",
               static_cast<long long>(done), static_cast<long long>(r.o.steps), r.state.loss_ema,
               lr_at(r.o, done - 1), rate, duration_str((r.o.steps - done) / std::max(rate, 1e-9)).c_str());
  std::fflush(stderr);
}

std::map<std::string, std::string> provenance(const Run& r) {
  return {{"step", std::to_string(r.state.step)},
          {"steps", std::to_string(r.o.steps)},
          {"loss", option_value(r.state.loss_ema)},
          {"seconds", option_value(r.state.seconds)},
          {"device", r.device.str()},
          {"precision", to_string(r.precision)},
          {"skipped_steps", std::to_string(r.state.scaler.skipped_steps())},
          {"threads", std::to_string(r.result.threads)},
          {"command", r.command_line},
          {"data", r.o.data},
          {"seed", std::to_string(r.o.seed)},
          {"libtorch", TORCH_VERSION}};
}

// The model folder first, then the training state: every train_state.pt has its model.ini.
void write_checkpoint(Run& r) {
  r.state.seconds += elapsed_since(r.start);
  r.start = Clock::now();
  save_unet_checkpoint(r.dir.string(), r.state.ema, r.diffusion, provenance(r));
  save_train_state((r.dir / "train_state.pt").string(), r.state);
}

void write_samples(const Run& r) {
  const std::vector<int64_t> shape{r.unet.in_channels, r.unet.image_size, r.unet.image_size};
  const std::string path = (r.dir / str_cat("samples_step", r.state.step, ".png")).string();
  write_sample_grid(path, r.state.ema, r.diffusion, shape, r.o.sample_count, r.o.sample_steps,
                    static_cast<uint64_t>(r.o.seed), r.device);
}

// After step `done` (1-based count of completed steps): log, checkpoint, samples as due.
void after_step(Run& r, int64_t done) {
  const bool last = done == r.o.steps;
  if (done % r.o.log_every == 0 || last) log_step(r, done);
  if (done % r.o.checkpoint_every == 0 || last) write_checkpoint(r);
  if (done % r.o.sample_interval() == 0 || last) write_samples(r);
}

void update_loss_ema(Run& r, double loss) {
  r.state.loss_ema = r.state.step == 0 ? loss : 0.99 * r.state.loss_ema + 0.01 * loss;
}

void run_loop(Run& r) {
  r.start = r.last_log = Clock::now();
  r.last_log_step = r.state.step;
  for (int64_t s = r.state.step; s < r.o.steps; ++s) {
    const double loss = train_step(r, s);
    r.result.losses.push_back(loss);
    if (!std::isfinite(loss)) {
      r.result.status = TrainStatus::kNonFinite;
      break;
    }
    update_loss_ema(r, loss);
    r.state.step = s + 1;
    after_step(r, s + 1);
  }
  r.result.total_seconds = r.state.seconds + elapsed_since(r.start);
}

void setup_run(Run& r, bool resume) {
  if (resume) check_resume_matches(r.dir, r.unet, r.diffusion);
  else check_fresh_folder(r.dir, "training");
  r.images = load_training_images(r.o, r.unet, r.device);
  init_schedule(r);
  r.adam = adam_options(r.o);
  r.state = make_train_state(r.unet, derive_key(static_cast<uint64_t>(r.o.seed), hash_string("train.init")), r.adam,
                             r.device);
  r.state.scaler = LossScaler(r.precision == Precision::kFloat16);
  if (resume) load_train_state((r.dir / "train_state.pt").string(), r.state, r.adam, r.device);
  fs::create_directories(r.dir);
  prepare_log(r.dir / "train_log.csv", kLogHeader, r.state.step, resume);
}

}  // namespace

TrainResult train_unet(const TrainOptions& options, const UNetOptions& unet, const DiffusionOptions& diffusion,
                       const std::string& out_dir, bool resume, const std::string& command_line) {
  check_setup(options, unet, diffusion);
  const auto t0 = Clock::now();
  Run r;
  r.o = options;
  r.unet = unet;
  r.diffusion = diffusion;
  r.dir = out_dir;
  r.command_line = command_line;
  r.result.threads = configure_threads(static_cast<int>(options.threads), false);  // oneDNN: training speed
  r.device = resolve_device(options.device);
  r.result.device = r.device.str();
  r.precision = parse_precision(options.precision, "TrainOptions::precision");
  check_precision_device(r.precision, r.device, "TrainOptions::precision");
  r.result.precision = to_string(r.precision);
  setup_run(r, resume);
  r.result.parameters = r.state.model->parameter_count();
  r.result.images = r.images.size(0);
  r.result.start_step = r.state.step;
  run_loop(r);
  r.result.last_step = r.state.step;
  r.result.skipped_steps = r.state.scaler.skipped_steps();
  r.result.loss_ema = r.state.step > 0 ? r.state.loss_ema : std::nan("");
  r.result.seconds = elapsed_since(t0);
  return r.result;
}

}  // namespace ipbench
