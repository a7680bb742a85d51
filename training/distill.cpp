// Consistency distillation (see distill.h): setup, keyed batches, the CD step, checkpoints, logs, samples.
#include "training/distill.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/rng.h"
#include "core/runtime.h"
#include "datasets/dataset.h"
#include "datasets/png.h"
#include "models/schedule.h"
#include "models/unet_checkpoint.h"
#include "models/vp_eps_denoiser.h"
#include "training/train_state.h"
#include "training/mixed_precision.h"
#include "training/run_folder.h"

namespace ipbench {

namespace fs = std::filesystem;

void DistillOptions::validate() const {
  const char* o = "DistillOptions";
  check_option(!data.empty(), o, "data", data, "data names an HDF5 file or fashion-mnist:train");
  check_option(pad_to >= 0, o, "pad_to", pad_to, "pad_to >= 0");
  check_option(max_images >= 0, o, "max_images", max_images, "max_images >= 0");
  check_option(steps >= 1, o, "steps", steps, "steps >= 1");
  check_option(parameterization == "vp_eps" || parameterization == "edm", o, "parameterization", parameterization,
               "parameterization is vp_eps or edm");
  check_option(batch_size >= 1, o, "batch_size", batch_size, "batch_size >= 1");
  check_option(lr > 0, o, "lr", lr, "lr > 0");
  check_option(adam_beta1 >= 0 && adam_beta1 < 1, o, "adam_beta1", adam_beta1, "0 <= adam_beta1 < 1");
  check_option(adam_beta2 >= 0 && adam_beta2 < 1, o, "adam_beta2", adam_beta2, "0 <= adam_beta2 < 1");
  check_option(target_ema_decay >= 0 && target_ema_decay < 1, o, "target_ema_decay", target_ema_decay,
               "0 <= target_ema_decay < 1");
  check_option(ema_decay >= 0 && ema_decay < 1, o, "ema_decay", ema_decay, "0 <= ema_decay < 1");
  check_option(N >= 2, o, "N", N, "N >= 2");
  karras.validate(o);
  consistency().validate();
  check_option(loss == "l2" || loss == "pseudo_huber", o, "loss", loss, "loss in {l2, pseudo_huber}");
  check_option(checkpoint_every >= 1, o, "checkpoint_every", checkpoint_every, "checkpoint_every >= 1");
  check_option(sample_every >= 0, o, "sample_every", sample_every, "sample_every >= 0 (0 = checkpoint_every)");
  check_option(sample_count >= 1, o, "sample_count", sample_count, "sample_count >= 1");
  check_option(sample_sigma > karras.sigma_min && sample_sigma < karras.sigma_max, o, "sample_sigma", sample_sigma,
               "sigma_min < sample_sigma < sigma_max");
  check_option(seed >= 0, o, "seed", seed, "seed >= 0");
  check_option(!device.empty(), o, "device", device, "device is auto, cpu, cuda or cuda:N");
  parse_precision(precision, "DistillOptions::precision");
  check_option(threads >= 0, o, "threads", threads, "threads >= 0 (0 = all cores)");
  check_option(log_every >= 1, o, "log_every", log_every, "log_every >= 1");
}

ConsistencyOptions DistillOptions::consistency() const {
  ConsistencyOptions c;
  c.sigma_min = karras.sigma_min;
  c.sigma_max = karras.sigma_max;
  c.sigma_data = sigma_data;
  c.parameterization = parameterization;
  return c;
}

const char* to_string(DistillStatus s) {
  switch (s) {
    case DistillStatus::kCompleted: return "completed";
    case DistillStatus::kNonFinite: return "stopped: non-finite loss";
  }
  return "?";
}

std::string DistillResult::brief() const {
  return run_brief(to_string(status), start_step, last_step, loss_ema, seconds, total_seconds,
                   precision_label(device, precision, skipped_steps), threads);
}

namespace {

// ---------------------------------------------------------------------------------------------
// The distillation state and train_state.pt

struct DistillState {
  UNet student{nullptr}, target{nullptr}, ema{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer;
  int64_t step = 0;     // steps completed
  double loss_ema = 0;  // meaningless while step = 0
  double seconds = 0;   // wall time accumulated across resumes, up to `step`
  LossScaler scaler;    // fp16 loss scale (disabled otherwise)
};

// A UNet with `source`'s options and an exact copy of its parameters and buffers.
UNet copy_of(const UNet& source) {
  UNet copy(source->options());
  copy->to(source->parameters().front().device());
  torch::NoGradGuard no_grad;
  const auto from = source->named_parameters(), to = copy->named_parameters();
  for (const auto& p : from) to[p.key()].copy_(p.value());
  const auto bfrom = source->named_buffers(), bto = copy->named_buffers();
  for (const auto& b : bfrom) bto[b.key()].copy_(b.value());
  return copy;
}

DistillState make_state(UNet student, const torch::optim::AdamOptions& adam) {
  DistillState s;
  s.student = std::move(student);
  s.target = copy_of(s.student);
  s.ema = copy_of(s.student);
  for (auto* net : {&s.target, &s.ema})
    for (auto& p : (*net)->parameters()) p.set_requires_grad(false);
  s.optimizer = std::make_unique<torch::optim::Adam>(s.student->parameters(), adam);
  return s;
}

void save_state(const std::string& path, const DistillState& state) {
  torch::serialize::OutputArchive archive, student, target, ema, optimizer;
  state.student->save(student);
  state.target->save(target);
  state.ema->save(ema);
  state.optimizer->save(optimizer);
  archive.write("student", student);
  archive.write("target", target);
  archive.write("ema", ema);
  archive.write("optimizer", optimizer);
  archive.write("step", torch::tensor(state.step, torch::kLong));
  archive.write("loss_ema", torch::tensor(state.loss_ema, torch::kDouble));
  archive.write("seconds", torch::tensor(state.seconds, torch::kDouble));
  state.scaler.save(archive);
  save_archive_atomic(archive, path, "distillation state");
}

// Loads `path` into `state` (built with the checkpoint's architecture); Adam's hyper-parameters are
// reset to `adam` (the current options), its moments and step counts come from the checkpoint.
void load_state(const std::string& path, DistillState& state, const torch::optim::AdamOptions& adam,
                torch::Device device) {
  try {
    torch::serialize::InputArchive archive, student, target, ema, optimizer;
    archive.load_from(path, device);
    archive.read("student", student);
    archive.read("target", target);
    archive.read("ema", ema);
    archive.read("optimizer", optimizer);
    state.student->load(student);
    state.target->load(target);
    state.ema->load(ema);
    state.optimizer->load(optimizer);
    state.step = read_scalar<int64_t>(archive, "step");
    state.loss_ema = read_scalar<double>(archive, "loss_ema");
    state.seconds = read_scalar<double>(archive, "seconds");
    state.scaler.load(archive);
  } catch (const std::exception& e) {
    throw Error(str_cat(path, ": cannot resume from this distillation state (corrupt, not written by `ipbench ",
                        "distill`, or for another architecture): ", exception_message(e)));
  }
  for (auto& group : state.optimizer->param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()) = adam;
  require(state.step >= 0, path, ": corrupt distillation state (step = ", state.step, ")");
}

// ---------------------------------------------------------------------------------------------
// Setup: teacher, data, student, output folder.

struct Teacher {
  UNet net{nullptr};
  DiffusionOptions diffusion;  ///< its VP schedule
  std::shared_ptr<Denoiser> denoiser;
  std::string dir;
};

Teacher load_teacher(const std::string& dir, torch::Device device) {
  UNetCheckpoint ckpt;
  try {
    ckpt = load_unet_checkpoint(dir, device);
  } catch (const Error& e) {
    throw Error(str_cat("teacher '", dir, "' (a model folder from `ipbench train`): ", e.what()));
  }
  require(ckpt.diffusion.prediction == "eps", dir, ": the teacher must be a VP eps model from `ipbench train` ",
          "([diffusion] prediction = ", ckpt.diffusion.prediction, ")");
  Teacher t;
  t.net = ckpt.model;
  t.net->to(device);
  t.net->eval();
  for (auto& p : t.net->parameters()) p.set_requires_grad(false);
  t.dir = dir;
  t.diffusion = ckpt.diffusion;
  UNet net = t.net;
  auto eps = [net, device](const torch::Tensor& x_vp, const torch::Tensor& steps) mutable {
    return net->forward(x_vp.to(device, torch::kFloat), steps.to(device, torch::kFloat));
  };
  const auto& u = ckpt.unet;
  t.denoiser = std::make_shared<VpEpsDenoiser>(
      eps, ckpt.diffusion.vp.schedule(),
      std::vector<int64_t>{u.in_channels, u.image_size, u.image_size}, str_cat("teacher '", dir, "'"),
      str_cat("teacher '", dir, "': VP eps UNet"), VpEpsDenoiser::LearnedVariance::kNo);
  return t;
}

void check_fits(const UNetOptions& u, const torch::Tensor& images, const std::string& data, const char* who) {
  require(images.size(1) == u.in_channels && images.size(2) == u.image_size && images.size(3) == u.image_size,
          "training data '", data, "' holds images of ", images.size(1), "x", images.size(2), "x", images.size(3),
          " (C x H x W), but the ", who, " expects ", u.in_channels, "x", u.image_size, "x", u.image_size);
}

// The student's architecture: the teacher's, or the given one (checked).
UNetOptions student_options(const DistillOptions& o, const UNetOptions& teacher,
                            const std::optional<UNetOptions>& student) {
  require(!(o.init_from_teacher && student), "a student architecture ([unet]) was given, but init_from_teacher = ",
          "true copies the teacher's: set init_from_teacher = false to train a different student");
  const UNetOptions u = student ? *student : teacher;
  u.validate();
  require(u.out_channels == u.in_channels, "[unet] out_channels = ", u.out_channels, " but in_channels = ",
          u.in_channels, ": a consistency model outputs an image");
  require(u.dropout == 0, "[unet] dropout = ", u.dropout,
          ": dropout is not supported (LibTorch's dropout draws from its global RNG, which would break keyed ",
          "determinism and exact resume); use dropout = 0");
  return u;
}

UNet initial_student(const DistillOptions& o, const UNetOptions& u, const Teacher& teacher, torch::Device device) {
  if (o.init_from_teacher) {
    UNet s = copy_of(teacher.net);
    for (auto& p : s->parameters()) p.set_requires_grad(true);
    return s;
  }
  UNet s(u, derive_key(static_cast<uint64_t>(o.seed), hash_string("distill.init")));
  s->to(device);
  return s;
}

void check_resume_matches(const fs::path& dir, const UNetOptions& unet, const ConsistencyOptions& cm,
                          torch::Device device) {
  const fs::path state = dir / "train_state.pt";
  require(fs::is_regular_file(state), state.string(),
          ": no distillation state to resume from (missing; start the run without --resume, or check the folder)");
  const std::string ini = (dir / "model.ini").string();
  const auto model = load_consistency_model(dir.string(), device);
  require_same(unet, model->unet_options(), "unet", ini);
  require_same(cm, model->options(), "consistency", ini);
}

// ---------------------------------------------------------------------------------------------
// distill_log.csv

constexpr const char* kLogHeader = "step,loss,seconds";

// ---------------------------------------------------------------------------------------------
// The run: one struct holding what every step needs.

struct Run {
  DistillOptions o;
  ConsistencyOptions cm;
  UNetOptions unet;
  fs::path dir;
  std::string command_line;
  torch::Device device = torch::kCPU;
  Precision precision = Precision::kFloat32;
  Teacher teacher;
  torch::Tensor images;  // [N, C, H, W] on device
  torch::Tensor sigmas;  // [N] Karras sigmas (decreasing), float32 on device
  DistillState state;
  torch::optim::AdamOptions adam{0};
  DistillResult result;
  Clock::time_point start, last_log;
  int64_t last_log_step = 0;
};

struct Batch {
  torch::Tensor x_hi, t_hi, t_lo;  // x_hi [B, C, H, W]; t_hi > t_lo, [B]
};

Batch make_batch(const Run& r, int64_t s) {
  const auto seed = static_cast<uint64_t>(r.o.seed);
  const auto step = static_cast<uint64_t>(s);
  const int64_t B = r.o.batch_size;
  const torch::Tensor idx =
      keyed_ints(derive_key(seed, hash_string("distill.batch"), step), B, 0, r.images.size(0) - 1, r.device);
  const torch::Tensor n = keyed_ints(derive_key(seed, hash_string("distill.n"), step), B, 0, r.o.N - 2, r.device);
  const torch::Tensor x0 = r.images.index_select(0, idx);
  const torch::Tensor z = keyed_normal(x0.sizes(), derive_key(seed, hash_string("distill.z"), step)).to(r.device);
  const torch::Tensor t_hi = r.sigmas.index_select(0, n), t_lo = r.sigmas.index_select(0, n + 1);
  return {x0 + t_hi.view({B, 1, 1, 1}) * z, t_hi, t_lo};
}

// One teacher PF-ODE step (Euler or Heun) from t_hi to t_lo, without gradient.
torch::Tensor teacher_step(const Run& r, const Batch& b) {
  torch::NoGradGuard no_grad;
  const Denoiser& D = *r.teacher.denoiser;
  const torch::Tensor th = b.t_hi.view({-1, 1, 1, 1}), tl = b.t_lo.view({-1, 1, 1, 1});
  const torch::Tensor d = (b.x_hi - D.denoise(b.x_hi, b.t_hi)) / th;
  const torch::Tensor x_euler = b.x_hi + (tl - th) * d;
  if (!r.o.heun) return x_euler;
  const torch::Tensor d2 = (x_euler - D.denoise(x_euler, b.t_lo)) / tl;
  return b.x_hi + (tl - th) * (d + d2) / 2;
}

// Mean over the batch of the per-sample distance (distill.h).
torch::Tensor consistency_loss(const std::string& kind, const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor sq = (a - b).square().flatten(1);
  if (kind == "l2") return sq.mean(1).mean();
  const double c = 0.00054 * std::sqrt(static_cast<double>(sq.size(1)));
  return ((sq.sum(1) + c * c).sqrt() - c).mean();
}

// One CD step; returns the loss (the step is not applied when it is not finite).
double distill_step(Run& r, int64_t s) {
  const Batch b = make_batch(r, s);
  r.state.student->train();
  r.state.optimizer->zero_grad();
  torch::Tensor loss;
  {
    AutocastScope autocast(r.precision, r.device.type());
    const torch::Tensor x_lo = teacher_step(r, b);
    torch::Tensor target;
    {
      torch::NoGradGuard no_grad;
      target = consistency_function(r.state.target, x_lo, b.t_lo, r.cm, false);
    }
    const torch::Tensor pred = consistency_function(r.state.student, b.x_hi, b.t_hi, r.cm, false);
    // Under autocast pred / target may be bf16 / fp16: the distance is taken in float32.
    loss = consistency_loss(r.o.loss, pred.to(torch::kFloat), target.to(torch::kFloat));
  }
  const double value = loss.item<double>();
  if (!std::isfinite(value)) return value;
  r.state.scaler.scale(loss).backward();
  const bool finite_grads = r.state.scaler.unscale(r.state.student->parameters());
  if (finite_grads) {
    r.state.optimizer->step();
    update_ema(r.state.target, r.state.student, r.o.target_ema_decay);
    update_ema(r.state.ema, r.state.student, r.o.ema_decay);
  }
  r.state.scaler.update(finite_grads);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Output: log rows and progress lines, checkpoints, sample grids.

void log_step(Run& r, int64_t done) {
  const double total_seconds = r.state.seconds + elapsed_since(r.start);
  {
    std::ofstream csv(r.dir / "distill_log.csv", std::ios::app);
    csv.precision(8);
    csv << done << "," << r.state.loss_ema << "," << total_seconds << "\n";
  }
  const double rate = (done - r.last_log_step) / std::max(1e-9, elapsed_since(r.last_log));
  r.last_log = Clock::now();
  r.last_log_step = done;
  if (r.o.quiet) return;
  std::fprintf(stderr, "distill step %lld/%lld | loss %.6f | %.2f steps/s | ETA %s\n", static_cast<long long>(done),
               static_cast<long long>(r.o.steps), r.state.loss_ema, rate,
               duration_str((r.o.steps - done) / std::max(rate, 1e-9)).c_str());
  std::fflush(stderr);
}

std::map<std::string, std::string> provenance(const Run& r) {
  return {{"step", std::to_string(r.state.step)},
          {"steps", std::to_string(r.o.steps)},
          {"loss", option_value(r.state.loss_ema)},
          {"loss_kind", r.o.loss},
          {"seconds", option_value(r.state.seconds)},
          {"device", r.device.str()},
          {"precision", to_string(r.precision)},
          {"skipped_steps", std::to_string(r.state.scaler.skipped_steps())},
          {"threads", std::to_string(r.result.threads)},
          {"command", r.command_line},
          {"teacher", fs::absolute(r.teacher.dir).lexically_normal().string()},
          {"method", str_cat("consistency distillation, N = ", r.o.N, ", ", r.o.heun ? "heun" : "euler")},
          {"data", r.o.data},
          {"seed", std::to_string(r.o.seed)},
          {"libtorch", TORCH_VERSION}};
}

// The model folder first, then the state: every train_state.pt has its model.ini.
void write_checkpoint(Run& r) {
  r.state.seconds += elapsed_since(r.start);
  r.start = Clock::now();
  save_consistency_model(r.dir.string(), r.state.ema, r.cm, provenance(r));
  save_state((r.dir / "train_state.pt").string(), r.state);
}

// 1-step and 2-step samples of the EMA model from fixed keyed noise (distill.h).
void write_samples(const Run& r) {
  torch::NoGradGuard no_grad;
  const int64_t n = r.o.sample_count;
  const std::vector<int64_t> shape{n, r.unet.in_channels, r.unet.image_size, r.unet.image_size};
  const uint64_t key = derive_key(static_cast<uint64_t>(r.o.seed), hash_string("distill.samples"));
  const torch::Tensor z0 = keyed_normal(shape, derive_key(key, 0)).to(r.device);
  const torch::Tensor z1 = keyed_normal(shape, derive_key(key, 1)).to(r.device);
  UNet net = r.state.ema;
  net->eval();
  const auto sigma = [&](double s) { return torch::full({n}, s, z0.options()); };
  const torch::Tensor x1 = consistency_function(net, r.cm.sigma_max * z0, sigma(r.cm.sigma_max), r.cm, true);
  const double s2 = r.o.sample_sigma;
  const torch::Tensor x = x1 + std::sqrt(s2 * s2 - r.cm.sigma_min * r.cm.sigma_min) * z1;
  const torch::Tensor x2 = consistency_function(net, x, sigma(s2), r.cm, true);
  const auto nrow = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n)) - 1e-9));
  const std::string stem = (r.dir / str_cat("samples_step", r.state.step)).string();
  write_png(stem + "_1step.png", image_grid(x1.cpu(), nrow));
  write_png(stem + "_2step.png", image_grid(x2.cpu(), nrow));
}

// After step `done` (count of completed steps): log, checkpoint, samples as due.
void after_step(Run& r, int64_t done) {
  const bool last = done == r.o.steps;
  if (done % r.o.log_every == 0 || last) log_step(r, done);
  if (done % r.o.checkpoint_every == 0 || last) write_checkpoint(r);
  if (done % r.o.sample_interval() == 0 || last) write_samples(r);
}

void run_loop(Run& r) {
  r.start = r.last_log = Clock::now();
  r.last_log_step = r.state.step;
  const auto t0 = Clock::now();
  for (int64_t s = r.state.step; s < r.o.steps; ++s) {
    const double loss = distill_step(r, s);
    r.result.losses.push_back(loss);
    if (!std::isfinite(loss)) {
      r.result.status = DistillStatus::kNonFinite;
      break;
    }
    r.state.loss_ema = r.state.step == 0 ? loss : 0.99 * r.state.loss_ema + 0.01 * loss;
    r.state.step = s + 1;
    after_step(r, s + 1);
  }
  r.result.step_seconds = elapsed_since(t0);
  r.result.total_seconds = r.state.seconds + elapsed_since(r.start);
}

torch::Tensor sigma_table(const DistillOptions& o, torch::Device device) {
  const std::vector<double> s = o.karras.sigmas(o.N);
  return torch::tensor(s, torch::kDouble).to(device, torch::kFloat);
}

void setup_run(Run& r, bool resume, const std::optional<UNetOptions>& student) {
  r.teacher = load_teacher(r.teacher.dir, r.device);
  r.unet = student_options(r.o, r.teacher.net->options(), student);
  r.cm.vp = r.teacher.diffusion.vp;  // a vp_eps student uses its teacher's schedule
  if (resume) check_resume_matches(r.dir, r.unet, r.cm, r.device);
  else check_fresh_folder(r.dir, "distillation");
  Dataset d = load_dataset_source(r.o.data, r.o.pad_to, 0, r.o.max_images > 0 ? r.o.max_images : -1);
  check_fits(r.teacher.net->options(), d.images, r.o.data, "teacher");
  check_fits(r.unet, d.images, r.o.data, "student");
  r.images = d.images.to(r.device, torch::kFloat).contiguous();
  r.sigmas = sigma_table(r.o, r.device);
  r.adam = torch::optim::AdamOptions(r.o.lr).betas({r.o.adam_beta1, r.o.adam_beta2}).eps(1e-8);
  r.state = make_state(initial_student(r.o, r.unet, r.teacher, r.device), r.adam);
  r.state.scaler = LossScaler(r.precision == Precision::kFloat16);
  if (resume) load_state((r.dir / "train_state.pt").string(), r.state, r.adam, r.device);
  fs::create_directories(r.dir);
  prepare_log(r.dir / "distill_log.csv", kLogHeader, r.state.step, resume);
}

}  // namespace

DistillResult distill_consistency(const DistillOptions& options, const std::string& teacher_dir,
                                  const std::string& out_dir, bool resume, const std::string& command_line,
                                  const std::optional<UNetOptions>& student) {
  options.validate();
  const auto t0 = Clock::now();
  Run r;
  r.o = options;
  r.cm = options.consistency();
  r.dir = out_dir;
  r.command_line = command_line;
  r.teacher.dir = teacher_dir;
  r.result.threads = configure_threads(static_cast<int>(options.threads), false);  // oneDNN: training speed
  r.device = resolve_device(options.device);
  r.result.device = r.device.str();
  r.precision = parse_precision(options.precision, "DistillOptions::precision");
  check_precision_device(r.precision, r.device, "DistillOptions::precision");
  r.result.precision = to_string(r.precision);
  setup_run(r, resume, student);
  r.result.parameters = r.state.student->parameter_count();
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
