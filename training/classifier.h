#pragma once
// A small Fashion-MNIST classifier trained by ipbench itself (`ipbench train-classifier`), shipped as
// TorchScript for the `torchscript` operator (loss = cross_entropy) and as a feature network.
//
// Network (39,370 parameters at 32x32, float32):
//   conv3x3(1->8) relu maxpool2 -> conv3x3(8->16) relu maxpool2 -> conv3x3(16->32) relu maxpool2
//   -> flatten (32 * (H/8) * (W/8)) -> linear(->64) relu  [= the 64-d penultimate features]
//   -> linear(64->10) logits
// Training (fully keyed, no global RNG): per step s, batch_size images drawn uniformly with replacement
// (key (seed, "classifier.batch", s)); weights initialised N(0, 2/fan_in) from key (seed, "classifier.init"),
// biases 0; Adam(lr, betas 0.9/0.999) on the mean cross-entropy. On the CPU with a fixed thread count the
// result is deterministic. Test accuracy: argmax over the test split.
// Output folder: model.pt (TorchScript, forward(x [B,1,H,W] in [-1,1]) -> logits [B,10]), features.pt
// (TorchScript, forward(x) -> [B,64] penultimate ReLU features), train_log.csv (step,loss,seconds),
// result.ini (test accuracy, parameters, steps, seconds, command).
#include <torch/torch.h>

#include <string>

namespace ipbench {

struct ClassifierTrainOptions {
  std::string data = "fashion-mnist:train";
  std::string test_data = "fashion-mnist:test";
  /// Pad importer images to pad_to x pad_to (32 = the shipped fmnist32 priors); must be divisible by 8.
  int64_t pad_to = 32;
  int64_t steps = 3000;
  int64_t batch_size = 64;
  double lr = 1e-3;
  int64_t seed = 0;
  int64_t threads = 1;
  int64_t log_every = 100;
  bool quiet = false;

  template <class F>
  void fields(F&& f) {
    f("data", data, "training images with labels (fashion-mnist:train or an HDF5 file with /labels)");
    f("test_data", test_data, "test images with labels for the reported accuracy");
    f("pad_to", pad_to, "pad importer images to pad_to x pad_to, divisible by 8 (32)");
    f("steps", steps, "Adam steps, >= 1 (3000)");
    f("batch_size", batch_size, "images per step, drawn with replacement, >= 1 (64)");
    f("lr", lr, "Adam learning rate, > 0 (1e-3)");
    f("seed", seed, "root of every random key, >= 0");
    f("threads", threads, "intra-op threads (0 = all cores), >= 0 (1)");
    f("log_every", log_every, "steps between log lines, >= 1");
    f("quiet", quiet, "no progress lines on stderr");
  }
  void validate() const;
};

struct ClassifierResult {
  double test_accuracy = 0;
  double final_loss = 0;
  int64_t parameters = 0;
  double seconds = 0;
};

/// Trains the classifier and writes the output folder (created; Error if it already holds model.pt).
ClassifierResult train_classifier(const ClassifierTrainOptions& options, const std::string& out_dir,
                                  const std::string& command = "");

}  // namespace ipbench
