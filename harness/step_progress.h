#pragma once
// Progress inside a solver call, without touching solvers: every solver evaluates its prior through
// Problem::prior, so a Denoiser that counts its predict() calls tells how far a batch has come (network
// evaluation k of the solver's nfe_per_sample()). The runner wraps the prior with it for each batch.
#include <functional>
#include <string>
#include <vector>

#include "models/denoiser.h"

namespace ipbench {

/// Forwards everything to `inner` and calls `on_call(k)` after its k-th predict() (k from 1).
class CountingDenoiser final : public Denoiser {
 public:
  CountingDenoiser(const Denoiser& inner, std::function<void(int64_t)> on_call)
      : inner_(inner), on_call_(std::move(on_call)) {}
  Prediction predict(const torch::Tensor& x, const torch::Tensor& sigma) const override;
  std::vector<int64_t> image_shape() const override { return inner_.image_shape(); }
  std::string describe() const override { return inner_.describe(); }
  int64_t calls() const { return calls_; }

 private:
  const Denoiser& inner_;
  std::function<void(int64_t)> on_call_;
  mutable int64_t calls_ = 0;
};

}  // namespace ipbench
