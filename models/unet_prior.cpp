// `unet` prior (see unet_prior.h).
#include "models/unet_prior.h"

#include <utility>

#include "core/error.h"
#include "models/prior_util.h"
#include "models/unet_checkpoint.h"

namespace ipbench {

void UNetPriorOptions::validate() const {
  check_option(!path.empty(), "UNetPriorOptions", "path", path, "path names a model folder (required)");
}

namespace {
std::string describe_unet(const std::string& path, const UNetCheckpoint& c, const std::vector<int64_t>& shape,
                          const PriorContext& ctx) {
  const auto step = c.training.find("step");
  return str_cat("unet: '", path, "' VP eps UNet, ", c.model->parameter_count(), " parameters, image ",
                 shape_str(shape), ", T = ", c.diffusion.vp.T,
                 step == c.training.end() ? std::string() : str_cat(", step ", step->second), ", ",
                 ctx.device.str(), " ", c10::toString(ctx.dtype));
}
}  // namespace

std::shared_ptr<VpEpsDenoiser> make_unet_prior(const UNetPriorOptions& options, const PriorContext& ctx) {
  require(!options.path.empty(), "unet prior: no model folder given (option 'path')");
  const std::string who = str_cat("unet prior '", options.path, "'");
  UNetCheckpoint c = load_unet_checkpoint(options.path, ctx.device);
  const int64_t C = c.unet.in_channels;
  require(c.unet.out_channels == C || c.unet.out_channels == 2 * C, who, ": out_channels = ", c.unet.out_channels,
          " must be in_channels = ", C, " (eps) or ", 2 * C, " (eps, variance)");
  const std::vector<int64_t> shape{C, c.unet.image_size, c.unet.image_size};
  require(ctx.image_shape.empty() || ctx.image_shape == shape, who, ": the model is trained on images ",
          shape_str(shape), " but the benchmark's images are ", shape_str(ctx.image_shape));
  c.model->to(ctx.dtype);
  for (auto& p : c.model->parameters()) p.requires_grad_(false);
  const std::shared_ptr<UNetImpl> net = c.model.ptr();
  const auto opts = torch::TensorOptions().dtype(ctx.dtype).device(ctx.device);
  // t stays float64: the UNet's sinusoidal embedding is computed in float64 anyway.
  auto eps = [net, opts](const torch::Tensor& x_vp, const torch::Tensor& t) { return net->forward(x_vp.to(opts), t); };
  const VpSchedule schedule = c.diffusion.vp.schedule();
  return std::make_shared<VpEpsDenoiser>(eps, schedule, shape, who, describe_unet(options.path, c, shape, ctx));
}

}  // namespace ipbench
