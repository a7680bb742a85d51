#include "harness/prior_factory.h"

#include "core/error.h"
#include "datasets/dataset.h"

namespace ipbench {

std::shared_ptr<Denoiser> build_prior(const std::string& type, const Section& section, torch::Device device,
                                      torch::ScalarType dtype, const std::vector<int64_t>& image_shape,
                                      int64_t pad_to) {
  PriorContext pc;
  pc.device = device;
  pc.dtype = dtype;
  pc.image_shape = image_shape;
  pc.load_images = [pad_to](const std::string& source) { return load_dataset_source(source, pad_to).images; };
  auto prior = prior_registry().get(type).make(section, pc);
  const auto shape = prior->image_shape();
  require(shape.empty() || shape == image_shape, "config [prior]: the prior models images of shape ",
          torch::IntArrayRef(shape), " but the dataset's are ", torch::IntArrayRef(image_shape));
  return prior;
}

}  // namespace ipbench
