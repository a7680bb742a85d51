#pragma once
// Sample-quality evidence for a prior: draw unconditional samples (DDPM ancestral sampling, keyed
// iid noise; for a `cm` prior, 1- or 2-step consistency sampling, steps = min(steps, 2)) and compare
// them with held-out and training images (docs/quality.md).
//
// Reported, all in pixel space on the [-1, 1] scale:
//   fd_test           Frechet distance between the samples and `reference` (test) images
//   nn_train          mean RMS distance of each sample to its nearest training image (memorization)
//   nn_test           the same to the nearest test image
// and the same numbers for real training images in place of samples (the floor a perfect generator
// reaches): fd_test of `samples` training images not in the nearest-neighbour set, their nn_test,
// and nn_train of the test images (how far held-out real images lie from the training set).
#include <string>

#include "core/config.h"

namespace ipbench {

struct QualityOptions {
  int64_t samples = 1000;                      ///< generated samples
  int64_t steps = 100;                         ///< DDPM steps (respaced)
  int64_t batch_size = 250;                    ///< samples per sampling call
  int64_t seed = 0;                            ///< key of the sampling noise
  std::string reference = "fashion-mnist:test";  ///< held-out images
  std::string train = "fashion-mnist:train";     ///< training images (nearest-neighbour set)
  int64_t train_count = 10000;                 ///< training images in the nearest-neighbour set
  int64_t pad_to = 32;
  std::string device = "auto";
  int64_t threads = 0;

  template <class F>
  void fields(F&& f) {
    f("samples", samples, "generated samples, >= 2");
    f("steps", steps, "DDPM ancestral steps, >= 1 (a cm prior: consistency steps, 1 or 2 = min(steps, 2))");
    f("batch_size", batch_size, "samples per sampling call, >= 1");
    f("seed", seed, "key of the sampling noise");
    f("reference", reference, "held-out images (dataset source)");
    f("train", train, "training images (dataset source)");
    f("train_count", train_count, "first training images used as the nearest-neighbour set, >= 2");
    f("pad_to", pad_to, "pad importer images to pad_to (0 = none)");
    f("device", device, "auto | cpu | cuda | cuda:N");
    f("threads", threads, "intra-op threads, 0 = all cores");
  }
  void validate() const;
};

struct QualityRow {
  std::string what;  ///< "samples: <prior>" or "training images"
  double fd_test = 0, nn_train = 0, nn_test = 0;
};

struct QualityReport {
  QualityOptions options;
  std::string context;    ///< context_line() once threads are configured
  std::string prior;      ///< the prior's describe()
  double seconds = 0;     ///< sampling wall time
  QualityRow samples, real;
  std::string markdown() const;
  std::string json() const;
};

/// Reads [quality] and [prior] from `config` (unknown keys are errors) and measures.
QualityReport evaluate_prior_quality(const Config& config);

}  // namespace ipbench
