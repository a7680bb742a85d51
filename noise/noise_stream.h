#pragma once
// NoiseStream: the only source of randomness a solver sees.
//
// A stream serves one batch of `num_groups` coupled groups (G*K samples) of one item. The i-th call
// of gaussian() returns draw index i for every member, coupled within each group as the design says,
// so antithetic pairs negate ALL draws of a trajectory (initial and per-step). Draws are keyed by
// (seed, design, item, group, draw index): the same records come out whatever the batch size,
// device or shard layout.
#include <torch/torch.h>

#include <memory>

#include "noise/design.h"

namespace ipbench {

class NoiseStream {
 public:
  NoiseStream(std::shared_ptr<const NoiseDesign> design, uint64_t stream_key, int64_t first_group,
              int64_t num_groups, torch::Device device = torch::kCPU, torch::ScalarType dtype = torch::kFloat);

  /// Next draw: a [G*K, sample_shape...] tensor on the stream's device, standard normal per member.
  torch::Tensor gaussian(at::IntArrayRef sample_shape);
  /// Next draw as uniforms in the open interval (0, 1): a [G*K, sample_shape...] tensor (resampling,
  /// accept/reject). Uniform and Gaussian draws share ONE draw counter: each call takes the next index,
  /// whichever kind it is, so a solver's draw sequence (kind, shape) fixes every index. Coupling per
  /// design (NoiseDesign::draw_uniform): iid plain; antithetic (u, 1 - u) exactly (u + u' == 1 in the
  /// stream's dtype); repulsive, coupling Phi(z) of the coupled Gaussian draw; rqmc scrambled Sobol'
  /// coordinates. Values lie on the midpoint grid (2k + 1) 2^-24 (float) or 2^-53 (double).
  torch::Tensor uniform(at::IntArrayRef sample_shape);
  /// Skips one draw index without computing it (a draw the solver gives zero weight).
  void skip() { ++draws_; }

  int64_t batch_size() const { return num_groups_ * design_->group_size(); }
  int64_t group_size() const { return design_->group_size(); }
  int64_t draws() const { return draws_; }
  const NoiseDesign& design() const { return *design_; }

 private:
  std::shared_ptr<const NoiseDesign> design_;
  uint64_t key_;
  int64_t first_group_, num_groups_;
  torch::Device device_;
  torch::ScalarType dtype_;
  int64_t draws_ = 0;
};

}  // namespace ipbench
