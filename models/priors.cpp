// The prior registry: name -> (description, options, factory) for every built-in prior.
#include "models/denoiser.h"

#include <initializer_list>

#include "models/consistency.h"
#include "models/edm_prior.h"
#include "models/empirical_prior.h"
#include "models/gaussian_prior.h"
#include "models/gmm_prior.h"
#include "models/torchscript_prior.h"
#include "models/unet_prior.h"

namespace ipbench {

namespace {
// Keys that only matter without (or only with) `data`: setting them in the wrong case would be
// silently ignored, which the config rules forbid.
void reject_unused(const Section& s, bool has_data, std::initializer_list<const char*> without_data,
                   std::initializer_list<const char*> with_data) {
  for (const char* key : has_data ? without_data : with_data) {
    const ConfigEntry* e = s.find(key);
    // Entries with origin "(default)" were resolved by read_options, not written by the user.
    require(e == nullptr || e->origin == "(default)", "config [", s.name(), "] (", e ? e->origin : "", "): '",
            key, "' has no effect ", has_data ? "when 'data' is set" : "without 'data'");
  }
}

template <class Options>
ComponentInfo info(const char* name, const char* description) {
  return {name, description, describe_options<Options>()};
}

void add_builtin_priors(Registry<PriorEntry>& r) {
  r.add("empirical", {info<EmpiricalPriorOptions>("empirical", "exact posterior mean of a finite training set (memorizing optimal denoiser)"),
                      [](const Section& s, const PriorContext& ctx) -> std::shared_ptr<Denoiser> {
                        return EmpiricalPrior::from_options(read_options<EmpiricalPriorOptions>(s), ctx);
                      }});
  r.add("gaussian", {info<GaussianPriorOptions>("gaussian", "Gaussian prior, diagonal in the pixel or Fourier basis; closed-form denoiser"),
                     [](const Section& s, const PriorContext& ctx) -> std::shared_ptr<Denoiser> {
                       const auto o = read_options<GaussianPriorOptions>(s);
                       reject_unused(s, !o.data.empty(), {"mean", "variance", "shape"}, {"max_images"});
                       return GaussianPrior::from_options(o, ctx);
                     }});
  r.add("gmm", {info<GmmPriorOptions>("gmm", "Gaussian mixture with diagonal components fitted by EM; closed-form denoiser"),
                [](const Section& s, const PriorContext& ctx) -> std::shared_ptr<Denoiser> {
                  return GmmPrior::from_options(read_options<GmmPriorOptions>(s), ctx);
                }});
  r.add("torchscript", {info<TorchScriptPriorOptions>("torchscript", "user VP eps-prediction TorchScript model (optionally learned variance)"),
                        [](const Section& s, const PriorContext& ctx) -> std::shared_ptr<Denoiser> {
                          return TorchScriptPrior::from_options(read_options<TorchScriptPriorOptions>(s), ctx);
                        }});
  r.add("unet", {info<UNetPriorOptions>("unet", "UNet trained by `ipbench train` (model folder), VP eps prediction"),
                 [](const Section& s, const PriorContext& ctx) -> std::shared_ptr<Denoiser> {
                   return make_unet_prior(read_options<UNetPriorOptions>(s), ctx);
                 }});
  r.add("edm", {info<EdmPriorOptions>("edm", "user EDM denoiser (TorchScript, VE convention): forward(x, sigma) = D, or raw F with EDM preconditioning"),
                [](const Section& s, const PriorContext& ctx) -> std::shared_ptr<Denoiser> {
                  return EdmTorchScriptPrior::from_options(read_options<EdmPriorOptions>(s), ctx);
                }});
  r.add("cm", {info<CmPriorOptions>("cm", "consistency model from `ipbench distill`; D(x, sigma) = f(x, sigma), its one-step x0 estimate"),
               [](const Section& s, const PriorContext& ctx) -> std::shared_ptr<Denoiser> {
                 return CmPrior::from_options(read_options<CmPriorOptions>(s), ctx);
               }});
}
}  // namespace

Registry<PriorEntry>& prior_registry() {
  static Registry<PriorEntry> registry("prior");
  return registry;
}

void register_builtin_priors() {
  // Idempotent: registering twice would throw on the duplicate names.
  static const bool once = [] {
    add_builtin_priors(prior_registry());
    return true;
  }();
  (void)once;
}

}  // namespace ipbench
