#include "harness/quality.h"

#include <chrono>
#include <cstdio>
#include <sstream>

#include "core/options.h"
#include "core/rng.h"
#include "core/runtime.h"
#include "datasets/dataset.h"
#include "harness/prior_factory.h"
#include "harness/spec.h"
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

torch::Tensor draw_samples(const Denoiser& prior, const QualityOptions& o, torch::Device device) {
  auto design = std::make_shared<IidDesign>();
  const uint64_t key = derive_key(static_cast<uint64_t>(o.seed), hash_string("quality.samples"));
  DdpmChainOptions chain;
  chain.steps = o.steps;
  std::vector<torch::Tensor> parts;
  for (int64_t g0 = 0; g0 < o.samples; g0 += o.batch_size) {
    NoiseStream noise(design, key, g0, std::min(o.batch_size, o.samples - g0), device);
    parts.push_back(ddpm_sample(prior, noise, chain, torch::kFloat, device).to(torch::kCPU));
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
  os << "\n" << options.samples << " images per row; prior: " << prior << "; " << options.steps
     << " DDPM steps; sampling took " << fmt(seconds) << " s.\n";
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
