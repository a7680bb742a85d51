// Generates tests/data/tiny_classifier.pt: a tiny scripted image classifier for the torchscript operator.
//
// Not built by CMake. Regenerate (from the repository root, Debian libtorch-dev) with:
//   g++ -std=c++17 -O1 tests/data/make_tiny_classifier.cpp -o /tmp/make_tiny_classifier \
//       -I/usr/include/torch/csrc/api/include -ltorch -ltorch_cpu -lc10 && \
//   /tmp/make_tiny_classifier tests/data/tiny_classifier.pt
//
// forward(x) maps x [B, C, H, W] (any C, H, W) to logits [B, 10]: the channel mean goes through a 3x3
// convolution with 4 filters, tanh, a global average and a linear layer. Parameters are fixed formulas
// (no random numbers), so the file is reproducible. TorchScript source compiled by
// torch::jit::Module::define (no Python needed).
#include <torch/script.h>
#include <torch/torch.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " OUTPUT.pt\n";
    return 2;
  }
  torch::NoGradGuard no_grad;
  torch::jit::Module m("TinyClassifier");
  auto weight = torch::sin(torch::arange(36, torch::kFloat) * 0.9).reshape({4, 1, 3, 3}) * 0.5;
  m.register_parameter("weight", weight, false);
  m.register_parameter("bias", torch::tensor({0.1f, -0.2f, 0.05f, 0.0f}), false);
  m.register_parameter("fc_w", torch::cos(torch::arange(40, torch::kFloat) * 0.37).reshape({10, 4}) * 2.0, false);
  m.register_parameter("fc_b", torch::linspace(-0.3, 0.3, 10), false);
  m.define(R"(
def forward(self, x):
    g = x.mean(1, keepdim=True)
    h = torch.tanh(torch.conv2d(g, self.weight, self.bias, [1, 1], [1, 1], [1, 1], 1))
    f = h.mean([2, 3])
    return torch.matmul(f, self.fc_w.t()) + self.fc_b
)");
  m.save(argv[1]);
  std::cout << "wrote " << argv[1] << "\n";
  return 0;
}
