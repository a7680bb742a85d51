#pragma once
// Builds the configured prior for images of a given shape, giving it access to dataset sources.
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "models/denoiser.h"

namespace ipbench {

/// Builds prior `type` from `section` on `device` / `dtype` for images of `image_shape` ([C, H, W]);
/// dataset sources named by the prior are loaded with `pad_to`. Throws Error when the prior's image
/// shape differs from `image_shape`.
std::shared_ptr<Denoiser> build_prior(const std::string& type, const Section& section, torch::Device device,
                                      torch::ScalarType dtype, const std::vector<int64_t>& image_shape,
                                      int64_t pad_to);

}  // namespace ipbench
