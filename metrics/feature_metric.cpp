// The torchscript_feature metric family (metrics/feature_metric.h).
#include "metrics/feature_metric.h"

#include <torch/script.h>

#include <filesystem>
#include <limits>
#include <map>

#include "core/error.h"
#include "core/options.h"

namespace ipbench {

void FeatureMetricOptions::validate() const {
  check_option(!path.empty(), "FeatureMetricOptions", "path", path, "a TorchScript file");
}

struct FeatureNetwork::Impl {
  torch::jit::Module module;
  torch::ScalarType dtype = torch::kFloat;
};

FeatureNetwork::FeatureNetwork(std::string path) : path_(std::move(path)) {}
FeatureNetwork::~FeatureNetwork() = default;

torch::Tensor FeatureNetwork::features(const torch::Tensor& x) const {
  TORCH_CHECK(x.dim() == 4, "feature network input must be [B, C, H, W], got ", x.sizes());
  std::lock_guard<std::mutex> lock(mutex_);
  if (!impl_) {
    require(std::filesystem::is_regular_file(path_), "feature network '", path_,
            "': no such file (a TorchScript module: forward(x [B, C, H, W]) -> [B, D] or [B, C', H', W'])");
    auto impl = std::make_unique<Impl>();
    try {
      impl->module = torch::jit::load(path_, torch::kCPU);
    } catch (const c10::Error& e) {
      throw Error(str_cat("feature network '", path_, "' is not a TorchScript module: ", e.what_without_backtrace()));
    }
    impl->module.eval();
    for (const auto& p : impl->module.parameters()) {
      impl->dtype = p.scalar_type();
      break;
    }
    impl_ = std::move(impl);
  }
  torch::NoGradGuard no_grad;
  const auto in = x.detach().to(torch::kCPU, impl_->dtype).clamp(-1.0, 1.0).contiguous();
  c10::IValue out;
  try {
    out = impl_->module.forward({in});
  } catch (const c10::Error& e) {
    throw Error(str_cat("feature network '", path_, "' fails on input [", in.sizes(), "]: ",
                        e.what_without_backtrace()));
  }
  require(out.isTensor(), "feature network '", path_, "' returns no tensor. Violated: forward(x) -> [B, D] or [B, C', H', W']");
  auto f = out.toTensor();
  require((f.dim() == 2 || f.dim() == 4) && f.size(0) == in.size(0) && f.numel() > 0, "feature network '", path_,
          "' returns ", f.sizes(), " for input ", in.sizes(), ". Violated: forward(x [B, C, H, W]) -> [B, D] or ",
          "[B, C', H', W'] with the input's B");
  require(torch::isfinite(f).all().item<bool>(), "feature network '", path_,
          "' returns a non-finite value for a finite input ", in.sizes(), ". Violated: finite features");
  return f.to(torch::kDouble).clone();
}

torch::Tensor feature_distance(const torch::Tensor& a, const torch::Tensor& b) {
  TORCH_CHECK(a.dim() >= 2 && a.dim() == b.dim() && a.sizes().slice(1) == b.sizes().slice(1) &&
                  (b.size(0) == 1 || b.size(0) == a.size(0)),
              "feature_distance: features ", a.sizes(), " and ", b.sizes(), " do not match");
  auto unit = [](const torch::Tensor& f) {
    const auto g = f.to(torch::kDouble);
    return g / (g.pow(2).sum(1, true).sqrt() + 1e-10);
  };
  const auto d = (unit(a) - unit(b)).pow(2).sum(1);  // [B] or [B, H', W']
  return d.dim() == 1 ? d : d.flatten(1).mean(1);
}

namespace {

std::mutex registry_mutex;
std::map<std::string, std::shared_ptr<const FeatureNetwork>>& networks() {
  static std::map<std::string, std::shared_ptr<const FeatureNetwork>> n;
  return n;
}

torch::Tensor feature_metric(const FeatureNetwork& net, const MetricInput& in) {
  TORCH_CHECK(in.x_hat.defined() && in.x_true.defined() && in.x_hat.dim() == 4, "metric input needs x_hat and x_true");
  const auto x = in.x_hat.detach().to(torch::kCPU);
  const auto ok = torch::isfinite(x).flatten(1).all(1);
  const auto clean = torch::where(ok.view({-1, 1, 1, 1}), x, torch::zeros_like(x));
  const auto d = feature_distance(net.features(clean), net.features(in.x_true.detach().to(torch::kCPU)));
  return torch::where(ok, d, torch::full_like(d, std::numeric_limits<double>::quiet_NaN()));
}

}  // namespace

void register_feature_metric(const std::string& name, const FeatureMetricOptions& options) {
  options.validate();
  std::lock_guard<std::mutex> lock(registry_mutex);
  auto& nets = networks();
  auto& registry = metric_registry();
  if (registry.contains(name)) {
    const auto it = nets.find(name);
    require(it != nets.end() && it->second->path() == options.path, "metric '", name,
            "' is already registered", it == nets.end() ? " as a built-in metric" : " with path " + it->second->path(),
            "; give [metric.<label>] another label");
    return;
  }
  auto net = std::make_shared<const FeatureNetwork>(options.path);
  MetricEntry entry;
  entry.info = {name, "torchscript_feature: LPIPS-style distance of unit-normalized features of " + options.path,
                describe_options<FeatureMetricOptions>()};
  entry.lower_better = true;
  entry.compute = [net](const MetricInput& in) { return feature_metric(*net, in); };
  registry.add(name, std::move(entry));
  nets[name] = net;
}

void register_metric_section(const std::string& label, const Section& section) {
  std::string type = label;
  section.read("type", type);
  require(type == "torchscript_feature", "config [", section.name(), "] (", section.origin(), "): type = ", type,
          ". Violated: a [metric.<label>] section configures the torchscript_feature family (built-in metrics ",
          "take no section)");
  section.resolve("type", type);
  const auto options = read_options<FeatureMetricOptions>(section);
  try {
    register_feature_metric(label, options);
  } catch (const Error& e) {
    throw Error(str_cat("config [", section.name(), "] (", section.origin(), "): ", e.what()));
  }
}

void register_metric_sections(const Config& config, const std::vector<std::string>& labels) {
  for (const auto& label : labels)
    if (config.has_section("metric." + label)) register_metric_section(label, config.section("metric." + label));
}

std::shared_ptr<const FeatureNetwork> feature_network(const std::string& name) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  const auto it = networks().find(name);
  return it == networks().end() ? nullptr : it->second;
}

}  // namespace ipbench
