// Generates tests/data/tiny_eps_model.pt: a tiny scripted VP eps-prediction model for tests.
//
// Not built by CMake. Regenerate (from the repository root, Debian libtorch-dev) with:
//   g++ -std=c++17 -O1 tests/data/make_tiny_eps_model.cpp -o /tmp/make_tiny_eps_model \
//       -I/usr/include/torch/csrc/api/include -ltorch -ltorch_cpu -lc10 && \
//   /tmp/make_tiny_eps_model tests/data/tiny_eps_model.pt
//
// The model follows the TorchScript contract of docs/priors.md: forward(x, t) with x [B, 1, H, W]
// (VP scaling) and t a float tensor [B] of timesteps; it returns [B, 2, H, W] = (eps, v) where
// v = tanh(.) in [-1, 1] is the learned-range variance interpolation. eps = conv3x3(x) + a sinusoidal
// embedding of t. Parameters are fixed formulas (no random numbers), so the file is reproducible.
#include <torch/script.h>
#include <torch/torch.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " OUTPUT.pt\n";
    return 2;
  }
  torch::NoGradGuard no_grad;
  torch::jit::Module m("TinyEps");
  // weight [2, 1, 3, 3], bias [2], t-embedding scale [1, 2, 1, 1]: smooth deterministic values.
  auto weight = torch::sin(torch::arange(18, torch::kFloat) * 0.7).reshape({2, 1, 3, 3}) * 0.3;
  m.register_parameter("weight", weight, false);
  m.register_parameter("bias", torch::tensor({0.05f, -0.1f}), false);
  m.register_parameter("temb", torch::tensor({0.2f, 0.5f}).reshape({1, 2, 1, 1}), false);
  m.define(R"(
def forward(self, x, t):
    h = torch.conv2d(x, self.weight, self.bias, [1, 1], [1, 1], [1, 1], 1)
    emb = torch.sin(t * 0.01) + 0.001 * t
    h = h + emb.view(-1, 1, 1, 1) * self.temb
    eps = h[:, 0:1]
    v = torch.tanh(h[:, 1:2])
    return torch.cat([eps, v], 1)
)");
  m.save(argv[1]);
  std::cout << "wrote " << argv[1] << "\n";
  return 0;
}
