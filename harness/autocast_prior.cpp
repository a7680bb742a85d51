// The prior's forward under autocast (autocast_prior.h).
#include "harness/autocast_prior.h"

#include "core/error.h"
#include "core/options.h"
#include "core/runtime.h"

namespace ipbench {

Precision read_inference_precision(const Section& benchmark, const std::string& device, const std::string& dtype) {
  if (!benchmark.has("precision")) return Precision::kFloat32;
  const std::string field = "config [benchmark] precision";
  const Precision p = parse_precision(read_options<InferencePrecisionOptions>(benchmark).precision, field);
  if (p == Precision::kFloat32) return p;
  check_precision_device(p, resolve_device(device), field);
  require(dtype == "float32", field, " = ", to_string(p), " with dtype = ", dtype,
          ": autocast leaves float64 tensors alone, so the prior would run in ", dtype,
          ". Violated: a reduced precision needs [benchmark] dtype = float32");
  return p;
}

std::string dtype_with_precision(const std::string& dtype, Precision p) {
  return p == Precision::kFloat32 ? dtype : str_cat(dtype, ", prior under ", to_string(p), " autocast");
}

torch::Tensor AutocastConsistency::operator()(const torch::Tensor& x, const torch::Tensor& sigma) const {
  torch::Tensor out;
  {
    const AutocastScope scope(precision_, x.device().type());
    out = inner_(x, sigma);
  }
  return out.to(x.scalar_type());
}

Prediction AutocastDenoiser::predict(const torch::Tensor& x, const torch::Tensor& sigma) const {
  Prediction out;
  {
    const AutocastScope scope(precision_, x.device().type());
    out = inner_.predict(x, sigma);
  }
  out.x0 = out.x0.to(x.scalar_type());
  if (out.var_frac.defined()) out.var_frac = out.var_frac.to(x.scalar_type());
  return out;
}

}  // namespace ipbench
