#pragma once
// `[benchmark] precision = fp32 | bf16 | fp16` (issue 17): the prior's forward in solvers under autocast.
//
// The runner wraps the prior of each solver call (as it wraps it with step_progress's CountingDenoiser),
// so no solver changes: every predict() runs the inner prior in an AutocastScope (models/precision.h)
// with the precision's dtype and casts x0_hat (and the learned variance) back to the input's dtype, so
// the solver works in the run's dtype. Gradients flow through the cast and the autocast region (DPS's
// VJP through the prior). fp32, the default, does not wrap at all: records are bitwise those of a
// config without the key, and the key is absent from config.resolved.ini unless written.
//
// Rules (config errors, exit 2): fp16 needs a CUDA device; bf16 / fp16 need dtype = float32 (autocast
// leaves float64 tensors alone, so the key would silently do nothing). A CM solver's consistency function
// (its own network, or `ode`'s calls of the prior) is wrapped the same way (AutocastConsistency).
#include <string>

#include "core/config.h"
#include "models/consistency_fn.h"
#include "models/denoiser.h"
#include "models/precision.h"

namespace ipbench {

struct InferencePrecisionOptions {
  std::string precision = "fp32";

  template <class F>
  void fields(F&& f) {
    f("precision", precision,
      "fp32 | bf16 | fp16: autocast dtype of the prior's forward in solvers (fp16: CUDA only; bf16/fp16: dtype "
      "float32)");
  }
  void validate() const { parse_precision(precision, "config [benchmark] precision"); }
};

/// The precision of [benchmark] `precision` (fp32 when the key is absent: then it is not read, so
/// the resolved config does not list it). Error naming the key and the rule for an unknown value, fp16
/// off CUDA on `device`, or a reduced precision with `dtype` other than float32.
Precision read_inference_precision(const Section& benchmark, const std::string& device, const std::string& dtype);

/// The run's dtype with the precision when it is not fp32 ("float32, prior under bf16 autocast"), for
/// the run line and summaries.
std::string dtype_with_precision(const std::string& dtype, Precision p);

/// Forwards to a CM solver's consistency function under autocast with `precision` (a distilled model's
/// or TorchScript network; for `ode`, the prior's denoiser calls), the output cast back to x's dtype.
/// Differentiable like the function it wraps.
class AutocastConsistency final : public ConsistencyFunction {
 public:
  AutocastConsistency(const ConsistencyFunction& inner, Precision precision) : inner_(inner), precision_(precision) {}
  torch::Tensor operator()(const torch::Tensor& x, const torch::Tensor& sigma) const override;
  int64_t nfe_per_call() const override { return inner_.nfe_per_call(); }
  std::vector<int64_t> image_shape() const override { return inner_.image_shape(); }
  std::string describe() const override { return inner_.describe(); }

 private:
  const ConsistencyFunction& inner_;
  Precision precision_;
};

/// Forwards to `inner`, its predict() under autocast with `precision`, outputs cast back to x's dtype.
class AutocastDenoiser final : public Denoiser {
 public:
  AutocastDenoiser(const Denoiser& inner, Precision precision) : inner_(inner), precision_(precision) {}
  Prediction predict(const torch::Tensor& x, const torch::Tensor& sigma) const override;
  std::vector<int64_t> image_shape() const override { return inner_.image_shape(); }
  std::string describe() const override { return inner_.describe(); }

 private:
  const Denoiser& inner_;
  Precision precision_;
};

}  // namespace ipbench
