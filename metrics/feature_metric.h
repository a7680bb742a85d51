#pragma once
// The `torchscript_feature` metric family: a user-supplied TorchScript feature network phi
// (forward(x [B, C, H, W] on [-1, 1]) -> [B, D] or [B, C', H', W']) gives
//
//  * a per-sample perceptual distance, LPIPS-style (Zhang et al. 2018, with unit channel weights):
//      d(x_hat, x*) = mean_{h,w} sum_c (n(phi(x_hat))_{c,h,w} - n(phi(x*))_{c,h,w})^2,
//      n(f)_{.,h,w} = f_{.,h,w} / (||f_{.,h,w}||_2 + 1e-10)   (unit-normalized over channels)
//    for [B, D] features one position: d = ||n(phi(x_hat)) - n(phi(x*))||^2 = 2 - 2 cos in [0, 4].
//    0 for identical images, symmetric, lower is better; and
//  * a set-level Frechet distance between a cell's reconstructions and the ground truths in feature
//    space (phi flattened to [B, D']), computed by `ipbench rescore` (reports/rescore.h) with a bootstrap
//    interval over items (stats/distribution_distance.h).
//
// Configured as `[metric.<label>] type = torchscript_feature, path = <file>` and selected by its label in
// [benchmark] metrics or `ipbench rescore --metrics`; `fmnist_feature` is built in with the shipped
// Fashion-MNIST classifier's penultimate layer (models/fmnist-classifier/features.pt, relative to the
// working directory). The network runs on the CPU in its parameters' dtype, without gradients, on
// clamp(x, -1, 1); it is loaded at its first use. A network whose output is not [B, ...] with B the
// input's batch, or holds a non-finite value for a finite input, is an Error naming the file and rule.
#include <torch/torch.h>

#include <memory>
#include <mutex>
#include <string>

#include "core/config.h"
#include "metrics/metric.h"

namespace ipbench {

struct FeatureMetricOptions {
  /// The shipped classifier's penultimate layer (models/fmnist-classifier/MODEL_CARD.md).
  std::string path = "models/fmnist-classifier/features.pt";

  template <class F>
  void fields(F&& f) {
    f("path", path,
      "TorchScript feature network file: forward(x [B, C, H, W] on [-1, 1]) -> [B, D] or [B, C', H', W']");
  }
  void validate() const;
};

class FeatureNetwork {
 public:
  explicit FeatureNetwork(std::string path);
  ~FeatureNetwork();
  /// phi(clamp(x, -1, 1)) for finite x [B, C, H, W]: [B, D] or [B, C', H', W'] float64 on the CPU.
  torch::Tensor features(const torch::Tensor& x) const;
  const std::string& path() const { return path_; }

 private:
  struct Impl;
  std::string path_;
  mutable std::mutex mutex_;
  mutable std::unique_ptr<Impl> impl_;
};

/// The LPIPS-style distance above between features a [B, ...] and b [1 or B, ...] (equal trailing
/// shape): [B] float64.
torch::Tensor feature_distance(const torch::Tensor& a, const torch::Tensor& b);

/// Registers metric `name` of the torchscript_feature family (idempotent for the same path; Error when
/// `name` is registered otherwise).
void register_feature_metric(const std::string& name, const FeatureMetricOptions& options);
/// Registers the metric of a `[metric.<label>]` section (its `type`, default the label, must be
/// torchscript_feature); Error naming the section and the rule otherwise.
void register_metric_section(const std::string& label, const Section& section);
/// Registers the [metric.<label>] section of every label in `labels` that `config` has.
void register_metric_sections(const Config& config, const std::vector<std::string>& labels);
/// The feature network of a torchscript_feature metric; nullptr for any other metric.
std::shared_ptr<const FeatureNetwork> feature_network(const std::string& name);

}  // namespace ipbench
