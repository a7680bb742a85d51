// Generates tests/data/tiny_edm_model.pt: a scripted EDM denoiser for tests (the `edm` prior, docs/priors.md).
//
// Not built by CMake. Regenerate (from the repository root, Debian libtorch-dev) with:
//   g++ -std=c++17 -O0 tests/data/make_tiny_edm_model.cpp -o /tmp/make_tiny_edm_model \
//       -I/usr/include/torch/csrc/api/include -ltorch -ltorch_cpu -lc10 && \
//   /tmp/make_tiny_edm_model tests/data/tiny_edm_model.pt
//
// Convention preconditioning = none: forward(x, sigma) returns D(x, sigma) for x [B, C, H, W] and sigma [B].
// D is the exact denoiser of the standard normal prior N(0, I), D = x / (1 + sigma^2). No parameters, so it
// runs in x's dtype and device.
#include <torch/script.h>
#include <torch/torch.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " OUTPUT.pt\n";
    return 2;
  }
  torch::jit::Module m("TinyEdm");
  m.define(R"(
def forward(self, x, sigma):
    s2 = (sigma * sigma).view(-1, 1, 1, 1)
    return x / (1.0 + s2)
)");
  m.save(argv[1]);
  std::cout << "wrote " << argv[1] << "\n";
  return 0;
}
