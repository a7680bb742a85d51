// Mixed-precision training speed: wall time per `ipbench train` step of the shipped Fashion-MNIST UNet
// architecture (models/unet.h defaults, 1 x 32 x 32, 428,881 parameters) for each precision, as a
// ratio to fp32 measured in the same run. fp16 is measured on CUDA only (the CPU has no fp16 autocast).
//
//   build/bench/bench_train_precision [steps=50] [batch=64] [device=auto] [base_channels=24]
//
// base_channels widens every level of the UNet (24 = the shipped model) to see where lower precision
// starts to pay.
//
// Each precision trains twice from scratch on the first 2,048 Fashion-MNIST training images, for 10 and for 10 + steps steps, and the
// time per step is the difference of the two wall times over `steps`: setup, data, the final
// checkpoint and sample grid cancel. Every step ends in loss.item(), so CUDA work is synchronized.
#include <torch/torch.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/runtime.h"
#include "training/mixed_precision.h"
#include "training/trainer.h"

using namespace ipbench;
namespace fs = std::filesystem;

namespace {

double train_seconds(const TrainOptions& base, int64_t steps, const UNetOptions& unet, const fs::path& dir) {
  TrainOptions o = base;
  o.steps = steps;
  remove_tree(dir.string());
  const TrainResult r = train_unet(o, unet, DiffusionOptions{}, dir.string(), false, "bench_train_precision");
  if (r.status != TrainStatus::kCompleted) std::fprintf(stderr, "warning: %s\n", r.brief().c_str());
  return r.seconds;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t steps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 50;
  const int64_t batch = argc > 2 ? std::max(1, std::atoi(argv[2])) : 64;
  const std::string device_name = argc > 3 ? argv[3] : "auto";
  const int64_t base_channels = argc > 4 ? std::max(8, std::atoi(argv[4])) : UNetOptions{}.base_channels;
  try {
    const torch::Device device = resolve_device(device_name);
    const fs::path root = fs::temp_directory_path() / ("ipbench-bench-train-" + std::to_string(::getpid()));
    fs::create_directories(root);

    UNetOptions unet;
    unet.in_channels = unet.out_channels = 1;
    unet.image_size = 32;
    unet.base_channels = base_channels;
    TrainOptions o;
    o.data = "fashion-mnist:train";
    o.max_images = 2048;
    o.batch_size = batch;
    o.device = device.str();
    o.checkpoint_every = 1000000;
    o.sample_count = 1;
    o.sample_steps = 1;
    o.log_every = 1000000;
    o.quiet = true;
    const int warm = 10;

    std::vector<Precision> precisions{Precision::kFloat32, Precision::kBFloat16};
    if (device.is_cuda()) precisions.push_back(Precision::kFloat16);
    std::printf("device %s, threads %d, UNet 1x32x32 base_channels %lld (%lld parameters), batch %lld, %lld timed "
                "steps (after %d)\n",
                device.str().c_str(), configure_threads(0), static_cast<long long>(base_channels),
                static_cast<long long>(UNet(unet, 0)->parameter_count()), static_cast<long long>(batch),
                static_cast<long long>(steps), warm);
    std::printf("%-10s %12s %10s\n", "precision", "ms/step", "/fp32");
    double fp32_ms = 0;
    for (Precision p : precisions) {
      o.precision = to_string(p);
      const fs::path dir = root / o.precision;
      const double short_run = train_seconds(o, warm, unet, dir);
      const double long_run = train_seconds(o, warm + steps, unet, dir);
      const double ms = 1000 * (long_run - short_run) / static_cast<double>(steps);
      if (p == Precision::kFloat32) fp32_ms = ms;
      std::printf("%-10s %12.3f %10.3f\n", o.precision.c_str(), ms, ms / fp32_ms);
      std::fflush(stdout);
    }
    remove_tree(root.string());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train_precision: %s\n", e.what());
    return 2;
  }
  return 0;
}
