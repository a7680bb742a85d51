#include "reports/quality.h"

#include <chrono>
#include <cstdio>
#include <sstream>

#include "core/options.h"
#include "core/rng.h"
#include "core/runtime.h"
#include "datasets/dataset.h"
#include "harness/prior_factory.h"
#include "harness/spec.h"
#include "models/consistency.h"
#include "noise/designs.h"
#include "solvers/ddpm_chain.h"
#include "stats/distribution_distance.h"

namespace ipbench {

void QualityOptions::validate() const {
  check_option(samples >= 2, "QualityOptions", "samples", samples, "samples >= 2");
  check_option(steps >= 1, "QualityOptions", "steps", steps, "steps >= 1");
  check_option(batch_size >= 1, "QualityOptions", "batch_size", batch_size, "batch_size >= 1");
  check_option(train_count >= 2, "QualityOptions", "train_count", train_count, "train_count >= 2");
}

namespace {

// Consistency sampling (Song et al. 2023, Alg. 1) of a `cm` prior: x = f(sigma_max z_0, sigma_max), then
// for each further level s: x = f(x + sqrt(s^2 - sigma_min^2) z_k, s). Levels: openai's two-step
// schedule, indices 0 and 17 of 40 Karras levels (rho 7); steps = 1 keeps the first only.
torch::Tensor consistency_sample(const CmPrior& cm, NoiseStream& noise, int64_t steps) {
  torch::NoGradGuard no_grad;
  const auto& m = cm.model();
  const auto& o = m.options();
  const auto levels = karras_sigmas(40, o.sigma_min, o.sigma_max, 7.0);
  const std::vector<double> used = steps == 1 ? std::vector<double>{levels[0]} : std::vector<double>{levels[0], levels[17]};
  const auto shape = m.image_shape();
  torch::Tensor x;
  for (size_t k = 0; k < used.size(); ++k) {
    const torch::Tensor z = noise.gaussian(shape).to(m.device(), torch::kFloat);
    const double scale = k == 0 ? used[0] : std::sqrt(used[k] * used[k] - o.sigma_min * o.sigma_min);
    x = m(k == 0 ? scale * z : x + scale * z, torch::full({1}, used[k], z.options()), cm.clip_denoised());
  }
  return x;
}

torch::Tensor draw_samples(const Denoiser& prior, const QualityOptions& o, torch::Device device) {
  auto design = std::make_shared<IidDesign>();
  const uint64_t key = derive_key(static_cast<uint64_t>(o.seed), hash_string("quality.samples"));
  DdpmChainOptions chain;
  chain.steps = o.steps;
  const auto* cm = dynamic_cast<const CmPrior*>(&prior);
  std::vector<torch::Tensor> parts;
  for (int64_t g0 = 0; g0 < o.samples; g0 += o.batch_size) {
    NoiseStream noise(design, key, g0, std::min(o.batch_size, o.samples - g0), device);
    parts.push_back((cm ? consistency_sample(*cm, noise, std::min<int64_t>(o.steps, 2))
                        : ddpm_sample(prior, noise, chain, torch::kFloat, device))
                        .to(torch::kCPU));
  }
  return torch::cat(parts).flatten(1);
}

QualityRow measure(const std::string& what, const torch::Tensor& x, const torch::Tensor& test,
                   const torch::Tensor& train) {
  return {what, frechet_distance(x, test), mean_nearest_neighbor_distance(x, train),
          mean_nearest_neighbor_distance(x, test)};
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

}  // namespace

QualityReport evaluate_prior_quality(const Config& config) {
  register_builtins();
  QualityReport report;
  report.options = read_options<QualityOptions>(config.section("quality"));
  const auto& o = report.options;
  std::string type = "empirical";
  config.section("prior").read("type", type);
  configure_threads(static_cast<int>(o.threads));
  report.context = context_line();
  const torch::Device device = resolve_device(o.device);

  const Dataset test = load_dataset_source(o.reference, o.pad_to);
  // Training images: the nearest-neighbour set, and `samples` further ones as the "real" row.
  const Dataset train = load_dataset_source(o.train, o.pad_to, 0, o.train_count + o.samples);
  const std::vector<int64_t> shape = test.images.sizes().slice(1).vec();
  auto prior = build_prior(type, config.section("prior"), device, torch::kFloat, shape, o.pad_to);
  config.check_all_used();
  report.prior = prior->describe();

  const auto t0 = std::chrono::steady_clock::now();
  const torch::Tensor samples = draw_samples(*prior, o, device);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const torch::Tensor test_x = test.images.flatten(1);
  const torch::Tensor nn_set = train.images.narrow(0, 0, o.train_count).flatten(1);
  const torch::Tensor held = train.images.narrow(0, o.train_count, o.samples).flatten(1);
  report.samples = measure("samples: " + type, samples, test_x, nn_set);
  report.real = measure("training images (not in the NN set)", held, test_x, nn_set);
  return report;
}

std::string QualityReport::markdown() const {
  std::ostringstream os;
  os << "| images | FD to test (pixels) | NN distance to train | NN distance to test |\n|---|---|---|---|\n";
  for (const QualityRow* r : {&samples, &real})
    os << "| " << r->what << " | " << fmt(r->fd_test) << " | " << fmt(r->nn_train) << " | " << fmt(r->nn_test)
       << " |\n";
  os << "\n" << options.samples << " images per row; prior: " << prior << "; "
     << (prior.rfind("cm", 0) == 0 ? str_cat(std::min<int64_t>(options.steps, 2), "-step consistency sampling")
                                   : str_cat(options.steps, " DDPM steps"))
     << "; sampling took " << fmt(seconds) << " s.\n";
  return os.str();
}

std::string QualityReport::json() const {
  std::ostringstream os;
  auto row = [](const QualityRow& r) {
    return "{\"fd_test\": " + fmt(r.fd_test) + ", \"nn_train\": " + fmt(r.nn_train) + ", \"nn_test\": " +
           fmt(r.nn_test) + "}";
  };
  os << "{\"prior\": \"" << prior << "\", \"samples\": " << options.samples << ", \"steps\": " << options.steps
     << ", \"seconds\": " << fmt(seconds) << ", \"generated\": " << row(samples) << ", \"training_images\": "
     << row(real) << "}\n";
  return os.str();
}

}  // namespace ipbench
