#include "training/classifier.h"

#include <torch/script.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>

#include "core/error.h"
#include "core/options.h"
#include "core/rng.h"
#include "core/runtime.h"
#include "datasets/dataset.h"

namespace ipbench {

namespace fs = std::filesystem;

void ClassifierTrainOptions::validate() const {
  const char* o = "ClassifierTrainOptions";
  check_option(pad_to >= 8 && pad_to % 8 == 0, o, "pad_to", pad_to, "pad_to >= 8 and divisible by 8");
  check_option(steps >= 1, o, "steps", steps, "steps >= 1");
  check_option(batch_size >= 1, o, "batch_size", batch_size, "batch_size >= 1");
  check_option(lr > 0 && std::isfinite(lr), o, "lr", lr, "lr > 0");
  check_option(seed >= 0, o, "seed", seed, "seed >= 0");
  check_option(threads >= 0, o, "threads", threads, "threads >= 0");
  check_option(log_every >= 1, o, "log_every", log_every, "log_every >= 1");
}

namespace {

constexpr int64_t kClasses = 10, kHidden = 64;

// Parameters in order: w1 b1 w2 b2 w3 b3 w4 b4 w5 b5.
struct Params {
  std::vector<torch::Tensor> p;
  std::vector<std::string> names{"w1", "b1", "w2", "b2", "w3", "b3", "w4", "b4", "w5", "b5"};
};

Params init_params(int64_t C, int64_t H, int64_t W, uint64_t key) {
  const int64_t flat = 32 * (H / 8) * (W / 8);
  const std::vector<std::vector<int64_t>> shapes{{8, C, 3, 3}, {8}, {16, 8, 3, 3}, {16}, {32, 16, 3, 3}, {32},
                                                 {kHidden, flat}, {kHidden}, {kClasses, kHidden}, {kClasses}};
  Params ps;
  for (size_t i = 0; i < shapes.size(); ++i) {
    torch::Tensor t;
    if (i % 2 == 1) {
      t = torch::zeros(shapes[i]);
    } else {
      int64_t fan_in = 1;
      for (size_t j = 1; j < shapes[i].size(); ++j) fan_in *= shapes[i][j];
      t = keyed_normal(shapes[i], derive_key(key, i), torch::kFloat) * std::sqrt(2.0 / fan_in);
    }
    ps.p.push_back(t.requires_grad_(true));
  }
  return ps;
}

torch::Tensor features(const std::vector<torch::Tensor>& p, const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  auto h = torch::max_pool2d(torch::relu(torch::conv2d(x, p[0], p[1], 1, 1)), 2);
  h = torch::max_pool2d(torch::relu(torch::conv2d(h, p[2], p[3], 1, 1)), 2);
  h = torch::max_pool2d(torch::relu(torch::conv2d(h, p[4], p[5], 1, 1)), 2);
  return torch::relu(torch::linear(h.flatten(1), p[6], p[7]));
}

torch::Tensor logits(const std::vector<torch::Tensor>& p, const torch::Tensor& x) {
  return torch::linear(features(p, x), p[8], p[9]);
}

const char* kFeatureSource = R"(
def features(self, x):
    h = torch.max_pool2d(torch.relu(torch.conv2d(x, self.w1, self.b1, [1, 1], [1, 1])), [2, 2])
    h = torch.max_pool2d(torch.relu(torch.conv2d(h, self.w2, self.b2, [1, 1], [1, 1])), [2, 2])
    h = torch.max_pool2d(torch.relu(torch.conv2d(h, self.w3, self.b3, [1, 1], [1, 1])), [2, 2])
    return torch.relu(torch.matmul(torch.flatten(h, 1), self.w4.t()) + self.b4)
)";

// A TorchScript module holding the parameters; forward = logits (classifier) or features.
torch::jit::Module script_module(const std::vector<torch::Tensor>& p, const std::vector<std::string>& names, bool logits_out) {
  torch::jit::Module m(logits_out ? "FmnistClassifier" : "FmnistFeatures");
  const size_t n = logits_out ? p.size() : 8;
  for (size_t i = 0; i < n; ++i) m.register_parameter(names[i], p[i].detach().clone(), /*is_buffer=*/false);
  m.define(kFeatureSource);
  if (logits_out)
    m.define("def forward(self, x):\n    return torch.matmul(self.features(x), self.w5.t()) + self.b5\n");
  else
    m.define("def forward(self, x):\n    return self.features(x)\n");
  m.eval();
  return m;
}

double accuracy(const std::vector<torch::Tensor>& p, const Dataset& d) {
  torch::NoGradGuard ng;
  int64_t correct = 0;
  const int64_t N = d.images.size(0);
  for (int64_t i = 0; i < N; i += 1000) {
    const int64_t n = std::min<int64_t>(1000, N - i);
    const auto pred = logits(p, d.images.narrow(0, i, n)).argmax(1);
    correct += (pred == d.labels.narrow(0, i, n)).sum().item<int64_t>();
  }
  return static_cast<double>(correct) / static_cast<double>(N);
}

}  // namespace

ClassifierResult train_classifier(const ClassifierTrainOptions& o, const std::string& out_dir, const std::string& command) {
  o.validate();
  const fs::path out(out_dir);
  require(!fs::exists(out / "model.pt"), "train-classifier: '", (out / "model.pt").string(),
          "' already exists; choose another --out folder");
  configure_threads(static_cast<int>(o.threads));
  const auto train = load_dataset_source(o.data, o.pad_to);
  const auto test = load_dataset_source(o.test_data, o.pad_to);
  require(train.labels.defined() && test.labels.defined(), "train-classifier: '", o.data, "' and '", o.test_data,
          "' must carry labels");
  require(train.images.size(1) == 1 && train.images.size(2) % 8 == 0 && train.images.size(3) % 8 == 0,
          "train-classifier: images must be [N, 1, H, W] with H, W divisible by 8; got ", train.images.sizes());
  require(train.labels.max().item<int64_t>() < kClasses && train.labels.min().item<int64_t>() >= 0,
          "train-classifier: labels must lie in [0, 9]");
  fs::create_directories(out);
  const uint64_t root = static_cast<uint64_t>(o.seed);
  auto ps = init_params(1, train.images.size(2), train.images.size(3), derive_key(root, hash_string("classifier.init")));
  torch::optim::Adam opt(ps.p, torch::optim::AdamOptions(o.lr));
  std::ofstream log(out / "train_log.csv");
  log << "step,loss,seconds\n";
  const auto t0 = std::chrono::steady_clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  const int64_t N = train.images.size(0);
  double loss_ema = std::log(10.0);
  for (int64_t s = 0; s < o.steps; ++s) {
    const auto u = keyed_uniform({o.batch_size}, derive_key(root, hash_string("classifier.batch"), static_cast<uint64_t>(s)));
    const auto idx = (u * static_cast<double>(N)).floor().to(torch::kLong).clamp_max(N - 1);
    const auto x = train.images.index_select(0, idx), label = train.labels.index_select(0, idx);
    opt.zero_grad();
    const auto loss = torch::nn::functional::cross_entropy(logits(ps.p, x), label);
    loss.backward();
    opt.step();
    loss_ema = 0.98 * loss_ema + 0.02 * loss.item<double>();
    if ((s + 1) % o.log_every == 0 || s + 1 == o.steps) {
      log << s + 1 << "," << loss_ema << "," << seconds() << "\n";
      if (!o.quiet) std::cerr << "train-classifier: step " << s + 1 << "/" << o.steps << " loss " << loss_ema << "\n";
    }
  }
  ClassifierResult r;
  r.test_accuracy = accuracy(ps.p, test);
  r.final_loss = loss_ema;
  for (const auto& t : ps.p) r.parameters += t.numel();
  r.seconds = seconds();
  script_module(ps.p, ps.names, true).save((out / "model.pt").string());
  script_module(ps.p, ps.names, false).save((out / "features.pt").string());
  std::ofstream res(out / "result.ini");
  res << std::setprecision(6) << "[classifier]\ntest_accuracy = " << r.test_accuracy << "\ntest_images = "
      << test.images.size(0) << "\nfinal_loss = " << r.final_loss << "\nparameters = " << r.parameters
      << "\nsteps = " << o.steps << "\nbatch_size = " << o.batch_size << "\nseconds = " << r.seconds
      << "\nthreads = " << o.threads << "\ncommand = " << command << "\n";
  return r;
}

}  // namespace ipbench
