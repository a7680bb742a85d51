// Tests for training/ and the PNG output of datasets/: a valid PNG file, image grids, training
// options, the loss going down, bitwise-exact resume, refusals (existing folder, architecture
// mismatch, missing state, data/UNet mismatch, dropout), the files a run writes, and mixed precision
// (precision names, the autocast scope, the loss scaler, bf16 on the CPU, bf16 / fp16 on CUDA when present).
#include <catch2/catch.hpp>

#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <numeric>
#include <sstream>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "core/options.h"
#include "datasets/dataset.h"
#include "datasets/png.h"
#include "models/unet_checkpoint.h"
#include "error_message.h"
#include "temp_dir.h"
#include "training/mixed_precision.h"
#include "training/trainer.h"

using namespace ipbench;
namespace fs = std::filesystem;
using testing::TempDir;

namespace {

using testing::error_message;

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

uint32_t be32(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t(b.at(at)) << 24) | (uint32_t(b.at(at + 1)) << 16) | (uint32_t(b.at(at + 2)) << 8) | b.at(at + 3);
}

struct Chunk {
  std::string type;
  std::vector<uint8_t> data;
};

// Splits a PNG into chunks, checking the signature and every chunk's CRC32.
std::vector<Chunk> png_chunks(const std::vector<uint8_t>& b) {
  const std::vector<uint8_t> signature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  REQUIRE(b.size() >= 8);
  REQUIRE(std::vector<uint8_t>(b.begin(), b.begin() + 8) == signature);
  std::vector<Chunk> chunks;
  for (size_t at = 8; at < b.size();) {
    const uint32_t len = be32(b, at);
    REQUIRE(at + 12 + len <= b.size());
    const uLong crc = crc32(crc32(0L, Z_NULL, 0), b.data() + at + 4, len + 4);
    CHECK(be32(b, at + 8 + len) == static_cast<uint32_t>(crc));
    chunks.push_back({std::string(b.begin() + at + 4, b.begin() + at + 8),
                      std::vector<uint8_t>(b.begin() + at + 8, b.begin() + at + 8 + len)});
    at += 12 + len;
  }
  return chunks;
}

// Checks IHDR and that the IDAT inflates to filter-0 rows of `image` ([H, W] or [H, W, 3] uint8).
void check_png(const std::string& path, const torch::Tensor& image) {
  const auto chunks = png_chunks(read_bytes(path));
  REQUIRE(chunks.size() == 3);
  CHECK(chunks[0].type == "IHDR");
  CHECK(chunks[1].type == "IDAT");
  CHECK(chunks[2].type == "IEND");
  const int64_t h = image.size(0), w = image.size(1), c = image.dim() == 3 ? 3 : 1;
  const auto& ihdr = chunks[0].data;
  REQUIRE(ihdr.size() == 13);
  CHECK(be32(ihdr, 0) == w);
  CHECK(be32(ihdr, 4) == h);
  CHECK(ihdr[8] == 8);
  CHECK(ihdr[9] == (c == 3 ? 2 : 0));
  std::vector<uint8_t> expected;
  const torch::Tensor px = image.contiguous();
  for (int64_t y = 0; y < h; ++y) {
    expected.push_back(0);
    expected.insert(expected.end(), px.data_ptr<uint8_t>() + y * w * c, px.data_ptr<uint8_t>() + (y + 1) * w * c);
  }
  std::vector<uint8_t> raw(expected.size() + 16);
  uLongf raw_len = raw.size();
  REQUIRE(uncompress(raw.data(), &raw_len, chunks[1].data.data(), chunks[1].data.size()) == Z_OK);
  raw.resize(raw_len);
  CHECK(raw == expected);
}

// 16 images 1 x 8 x 8: a bright square or a bar on a -1 background, with a little per-image shift.
std::string write_toy_dataset(const TempDir& dir, int64_t size = 8, int64_t channels = 1) {
  torch::Tensor x = torch::full({16, channels, size, size}, -1.0);
  for (int64_t i = 0; i < 16; ++i) {
    const int64_t o = i % 3;
    if (i % 2 == 0) x[i].narrow(1, 2 + o / 2, 4).narrow(2, 2, 4).fill_(0.8);
    else x[i].narrow(1, 3, 2).narrow(2, o, size - 2).fill_(0.5);
  }
  Dataset d;
  d.images = x;
  d.attributes = {"toy", "CC0", "train"};
  const std::string path = dir.file("toy.h5");
  write_dataset(path, d);
  return path;
}

UNetOptions tiny_unet() {
  UNetOptions u;
  u.base_channels = 8;
  u.channel_mult = {1, 2};
  u.groups = 4;
  u.image_size = 8;
  return u;
}

TrainOptions tiny_options(const std::string& data, int64_t steps) {
  TrainOptions o;
  o.data = data;
  o.pad_to = 0;
  o.steps = steps;
  o.batch_size = 8;
  o.lr = 1e-3;
  o.warmup_steps = 2;
  o.ema_decay = 0.5;  // large EMA steps: a resume bug shows in the saved weights
  o.checkpoint_every = 1000;
  o.sample_count = 4;
  o.sample_steps = 4;
  o.device = "cpu";
  o.threads = 1;
  o.log_every = 1;
  o.quiet = true;
  return o;
}

// tiny_options for 60 steps at a learning rate that learns the toy data quickly.
TrainOptions learning_options(const std::string& data) {
  TrainOptions o = tiny_options(data, 60);
  o.warmup_steps = 5;
  o.lr = 2e-3;
  return o;
}

// A 60-step run learned: the mean loss of the last 10 steps is below 0.7 x that of the first 10.
void check_learned(const TrainResult& r) {
  REQUIRE(r.status == TrainStatus::kCompleted);
  REQUIRE(r.losses.size() == 60);
  const double first = std::accumulate(r.losses.begin(), r.losses.begin() + 10, 0.0) / 10;
  const double last = std::accumulate(r.losses.end() - 10, r.losses.end(), 0.0) / 10;
  INFO("mean loss of steps 1-10: " << first << ", of steps 51-60: " << last << "; " << r.brief());
  CHECK(last < 0.7 * first);
}

bool same_weights(const UNet& a, const UNet& b) {
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  if (pa.size() != pb.size()) return false;
  for (const auto& p : pa)
    if (!torch::equal(p.value(), pb[p.key()])) return false;
  return true;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

}  // namespace

TEST_CASE("training: write_png writes a valid gray and RGB PNG", "[training][png]") {
  TempDir dir;
  const torch::Tensor gray = torch::arange(5 * 7, torch::kInt).remainder(256).to(torch::kByte).reshape({5, 7}) * 7;
  write_png(dir.file("gray.png"), gray);
  check_png(dir.file("gray.png"), gray);
  const torch::Tensor rgb = (torch::arange(3 * 4 * 3, torch::kInt) * 11).remainder(256).to(torch::kByte).reshape({3, 4, 3});
  write_png(dir.file("rgb.png"), rgb);
  check_png(dir.file("rgb.png"), rgb);
  for (const auto& e : fs::directory_iterator(dir.path)) CHECK(e.path().extension() == ".png");  // no temp files
  // png_bytes is the same file in memory.
  const std::vector<uint8_t> file = read_bytes(dir.file("rgb.png"));
  CHECK(png_bytes(rgb) == std::string(file.begin(), file.end()));
  CHECK_THROWS_WITH(png_bytes(torch::zeros({2, 2})), Catch::Contains("uint8"));
}

TEST_CASE("training: write_png refuses wrong dtypes and shapes", "[training][png][errors]") {
  TempDir dir;
  CHECK_THAT(error_message([&] { write_png(dir.file("a.png"), torch::zeros({4, 4})); }),
             Catch::Contains("uint8"));
  CHECK_THAT(error_message([&] { write_png(dir.file("a.png"), torch::zeros({4, 4, 4}, torch::kByte)); }),
             Catch::Contains("[H, W, 3]"));
  CHECK_THROWS_AS(write_png(dir.file("a.png"), torch::zeros({4}, torch::kByte)), Error);
  CHECK_THROWS_AS(write_png(dir.file("a.png"), torch::zeros({0, 4}, torch::kByte)), Error);
  CHECK_THROWS_AS(write_png(dir.file("missing/a.png"), torch::zeros({2, 2}, torch::kByte)), Error);
  CHECK_FALSE(fs::exists(dir.file("a.png")));
}

TEST_CASE("training: image_grid shapes, values and errors", "[training][png]") {
  const torch::Tensor x = torch::full({5, 1, 6, 4}, -1.0);
  x[1].fill_(1.0);
  x[2].fill_(3.0);  // clamped
  const torch::Tensor g = image_grid(x, 3, 2);
  CHECK(g.sizes() == at::IntArrayRef({2 * 8 + 2, 3 * 6 + 2}));
  CHECK(g.scalar_type() == torch::kByte);
  CHECK(g[0][0].item<int>() == 255);  // padding
  CHECK(g[2][2].item<int>() == 0);    // image 0: -1
  CHECK(g[2][8].item<int>() == 255);  // image 1: 1
  CHECK(g[2][14].item<int>() == 255);  // image 2: clamped 3
  CHECK(image_grid(torch::zeros({2, 3, 4, 4}), 8, 0).sizes() == at::IntArrayRef({4, 8, 3}));
  CHECK(image_grid(torch::zeros({1, 1, 4, 4}), 1, 0)[0][0].item<int>() == 128);  // round(127.5)
  CHECK_THROWS_AS(image_grid(torch::zeros({2, 2, 4, 4}), 2), Error);
  CHECK_THROWS_AS(image_grid(torch::zeros({2, 4, 4}), 2), Error);
  CHECK_THROWS_AS(image_grid(torch::zeros({2, 1, 4, 4}, torch::kByte), 2), Error);
  CHECK_THROWS_AS(image_grid(torch::zeros({2, 1, 4, 4}), 0), Error);
}

TEST_CASE("training: TrainOptions defaults are valid, every constraint is checked", "[training][options]") {
  CHECK_NOTHROW(TrainOptions{}.validate());
  CHECK(TrainOptions{}.sample_interval() == TrainOptions{}.checkpoint_every);
  auto fails = [](auto set, const char* what) {
    TrainOptions o;
    set(o);
    CHECK_THAT(error_message([&] { o.validate(); }), Catch::Contains(what));
  };
  fails([](TrainOptions& o) { o.data = ""; }, "TrainOptions::data");
  fails([](TrainOptions& o) { o.pad_to = -1; }, "TrainOptions::pad_to = -1");
  fails([](TrainOptions& o) { o.max_images = -1; }, "max_images >= 0");
  fails([](TrainOptions& o) { o.steps = 0; }, "TrainOptions::steps = 0");
  fails([](TrainOptions& o) { o.batch_size = 0; }, "batch_size >= 1");
  fails([](TrainOptions& o) { o.lr = 0; }, "lr > 0");
  fails([](TrainOptions& o) { o.weight_decay = -1; }, "weight_decay >= 0");
  fails([](TrainOptions& o) { o.adam_beta1 = 1; }, "adam_beta1 < 1");
  fails([](TrainOptions& o) { o.adam_beta2 = -0.1; }, "adam_beta2 < 1");
  fails([](TrainOptions& o) { o.warmup_steps = -1; }, "warmup_steps >= 0");
  fails([](TrainOptions& o) { o.grad_clip = -1; }, "grad_clip >= 0");
  fails([](TrainOptions& o) { o.ema_decay = 1; }, "ema_decay < 1");
  fails([](TrainOptions& o) { o.checkpoint_every = 0; }, "checkpoint_every >= 1");
  fails([](TrainOptions& o) { o.sample_every = -1; }, "sample_every >= 0");
  fails([](TrainOptions& o) { o.sample_count = 0; }, "sample_count >= 1");
  fails([](TrainOptions& o) { o.sample_steps = 0; }, "sample_steps >= 1");
  fails([](TrainOptions& o) { o.seed = -1; }, "seed >= 0");
  fails([](TrainOptions& o) { o.device = ""; }, "TrainOptions::device");
  fails([](TrainOptions& o) { o.threads = -1; }, "threads >= 0");
  fails([](TrainOptions& o) { o.log_every = 0; }, "log_every >= 1");
}

TEST_CASE("training: configs/train-fmnist.ini is a valid training config", "[training][config]") {
  const Config config = Config::from_file(std::string(IPBENCH_SOURCE_DIR) + "/configs/train-fmnist.ini");
  const auto train = read_options<TrainOptions>(config.section("train"));
  const auto unet = read_options<UNetOptions>(config.section("unet"));
  const auto diffusion = read_options<DiffusionOptions>(config.section("diffusion"));
  CHECK_NOTHROW(config.check_all_used());
  CHECK(train.data == "fashion-mnist:train");
  CHECK(train.steps == 4000);
  CHECK(train.batch_size == 64);
  CHECK(train.checkpoint_every == 500);
  CHECK(unet.image_size == train.pad_to);
  CHECK(diffusion.vp.T == 1000);
}

TEST_CASE("training: the loss decreases on a simple dataset", "[training]") {
  TempDir dir;
  const std::string data = write_toy_dataset(dir);
  const TrainResult r = train_unet(learning_options(data), tiny_unet(), DiffusionOptions{}, dir.file("run"), false,
                                   "test");
  check_learned(r);
  CHECK(r.start_step == 0);
  CHECK(r.last_step == 60);
  CHECK(r.images == 16);
  CHECK(r.parameters > 0);
  CHECK(std::isfinite(r.loss_ema));
}

TEST_CASE("training: a resumed run is bitwise identical to an uninterrupted one", "[training][resume]") {
  TempDir dir;
  const std::string data = write_toy_dataset(dir);
  TrainOptions o = tiny_options(data, 6);
  o.checkpoint_every = 3;
  const TrainResult straight = train_unet(o, tiny_unet(), DiffusionOptions{}, dir.file("straight"), false, "test");

  TrainOptions first = o;
  first.steps = 3;
  train_unet(first, tiny_unet(), DiffusionOptions{}, dir.file("resumed"), false, "test");
  const TrainResult resumed = train_unet(o, tiny_unet(), DiffusionOptions{}, dir.file("resumed"), true, "test");
  CHECK(resumed.start_step == 3);
  CHECK(resumed.last_step == 6);
  REQUIRE(resumed.losses.size() == 3);
  CHECK(resumed.losses == std::vector<double>(straight.losses.begin() + 3, straight.losses.end()));
  CHECK(resumed.loss_ema == straight.loss_ema);

  const UNetCheckpoint a = load_unet_checkpoint(dir.file("straight")), b = load_unet_checkpoint(dir.file("resumed"));
  CHECK(same_weights(a.model, b.model));
  CHECK(b.training.at("step") == "6");
  // The log has one row per step, none repeated: rows 1..6.
  const auto log = lines_of(dir.file("resumed") + "/train_log.csv");
  REQUIRE(log.size() == 7);
  for (int i = 1; i <= 6; ++i) CHECK(log[i].rfind(std::to_string(i) + ",", 0) == 0);

  // Resuming a finished run does nothing.
  const TrainResult again = train_unet(o, tiny_unet(), DiffusionOptions{}, dir.file("resumed"), true, "test");
  CHECK(again.losses.empty());
  CHECK(again.last_step == 6);
}

TEST_CASE("training: a run writes its model folder, log, state and sample grids", "[training][files]") {
  TempDir dir;
  const std::string data = write_toy_dataset(dir);
  TrainOptions o = tiny_options(data, 4);
  o.checkpoint_every = 2;
  o.log_every = 2;
  const std::string out = dir.file("run");
  train_unet(o, tiny_unet(), DiffusionOptions{}, out, false, "ipbench train --config x.ini --out run");
  for (const char* f : {"model.ini", "model.pt", "train_state.pt", "train_log.csv", "samples_step2.png",
                        "samples_step4.png"})
    CHECK(fs::is_regular_file(fs::path(out) / f));
  const auto log = lines_of(out + "/train_log.csv");
  REQUIRE(log.size() == 3);
  CHECK(log[0] == "step,loss,lr,seconds");
  CHECK(log[2].rfind("4,", 0) == 0);
  const UNetCheckpoint c = load_unet_checkpoint(out);
  CHECK(c.training.at("command") == "ipbench train --config x.ini --out run");
  CHECK(c.training.at("steps") == "4");
  for (const char* key : {"loss", "seconds", "device", "threads", "data", "libtorch"}) CHECK(c.training.count(key) == 1);
  // 4 samples of 8x8 in a 2x2 grid with 2 pixels of padding: 22 x 22.
  const auto chunks = png_chunks(read_bytes(out + "/samples_step4.png"));
  CHECK(be32(chunks.at(0).data, 0) == 22);
  CHECK(be32(chunks.at(0).data, 4) == 22);
}

TEST_CASE("training: refusals name the problem", "[training][errors]") {
  TempDir dir;
  const std::string data = write_toy_dataset(dir);
  const TrainOptions o = tiny_options(data, 2);
  const std::string out = dir.file("run");
  train_unet(o, tiny_unet(), DiffusionOptions{}, out, false, "test");

  // An existing run without --resume.
  CHECK_THAT(error_message([&] { train_unet(o, tiny_unet(), DiffusionOptions{}, out, false, "test"); }),
             Catch::Contains("--resume"));
  // Another architecture on resume.
  UNetOptions wider = tiny_unet();
  wider.base_channels = 12;
  const std::string msg = error_message([&] { train_unet(o, wider, DiffusionOptions{}, out, true, "test"); });
  CHECK_THAT(msg, Catch::Contains("base_channels") && Catch::Contains("checkpoint 8") && Catch::Contains("given 12"));
  // Another schedule on resume.
  DiffusionOptions other;
  other.vp.T = 500;
  CHECK_THAT(error_message([&] { train_unet(o, tiny_unet(), other, out, true, "test"); }), Catch::Contains("T"));
  // Resume without a run.
  CHECK_THAT(error_message([&] { train_unet(o, tiny_unet(), DiffusionOptions{}, dir.file("empty"), true, "test"); }),
             Catch::Contains("train_state.pt"));
  // A corrupt state.
  std::ofstream(out + "/train_state.pt") << "not an archive";
  CHECK_THAT(error_message([&] { train_unet(o, tiny_unet(), DiffusionOptions{}, out, true, "test"); }),
             Catch::Contains("train_state.pt"));
  // Data that does not fit the UNet: both shapes named.
  UNetOptions big = tiny_unet();
  big.image_size = 16;
  CHECK_THAT(error_message([&] { train_unet(o, big, DiffusionOptions{}, dir.file("x"), false, "test"); }),
             Catch::Contains("1x8x8") && Catch::Contains("1x16x16"));
  CHECK_FALSE(fs::exists(dir.file("x")));
  // Dropout (LibTorch's global RNG) is refused.
  UNetOptions drop = tiny_unet();
  drop.dropout = 0.1;
  CHECK_THAT(error_message([&] { train_unet(o, drop, DiffusionOptions{}, dir.file("y"), false, "test"); }),
             Catch::Contains("dropout"));
}

// ---------------------------------------------------------------------------------------------
// Mixed precision (training/mixed_precision.h)

TEST_CASE("training: precision names and the devices each precision runs on", "[training][precision]") {
  CHECK(parse_precision("fp32", "f") == Precision::kFloat32);
  CHECK(parse_precision("bf16", "f") == Precision::kBFloat16);
  CHECK(parse_precision("fp16", "f") == Precision::kFloat16);
  for (Precision p : {Precision::kFloat32, Precision::kBFloat16, Precision::kFloat16})
    CHECK(parse_precision(to_string(p), "f") == p);
  CHECK_THAT(error_message([] { parse_precision("fp8", "[train] precision"); }),
             Catch::Contains("[train] precision = fp8") && Catch::Contains("fp32, bf16 or fp16"));
  CHECK_NOTHROW(check_precision_device(Precision::kBFloat16, torch::kCPU, "p"));
  CHECK_THAT(error_message([] { check_precision_device(Precision::kFloat16, torch::kCPU, "[train] precision"); }),
             Catch::Contains("[train] precision = fp16") && Catch::Contains("CUDA"));
  TrainOptions o;
  o.precision = "half";
  CHECK_THAT(error_message([&] { o.validate(); }), Catch::Contains("TrainOptions::precision = half"));
}

TEST_CASE("training: AutocastScope runs its scope's matmuls in bf16 and restores the previous state",
          "[training][precision]") {
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({4, 8}), w = torch::randn({3, 8});
  REQUIRE_FALSE(autocast_enabled(torch::kCPU));
  CHECK(torch::nn::functional::linear(x, w).scalar_type() == torch::kFloat);
  {
    AutocastScope fp32(Precision::kFloat32, torch::kCPU);
    CHECK_FALSE(autocast_enabled(torch::kCPU));
  }
  {
    AutocastScope outer(Precision::kBFloat16, torch::kCPU);
    CHECK(autocast_enabled(torch::kCPU));
    const torch::Tensor y = torch::nn::functional::linear(x, w);
    CHECK(y.scalar_type() == torch::kBFloat16);
    // bf16 keeps ~3 significant digits: the product agrees with float32 to that precision.
    CHECK(torch::allclose(y.to(torch::kFloat), torch::nn::functional::linear(x, w).to(torch::kFloat), 0.05, 0.1));
    {
      AutocastScope inner(Precision::kBFloat16, torch::kCPU);
      CHECK(autocast_enabled(torch::kCPU));
    }
    CHECK(autocast_enabled(torch::kCPU));  // the inner scope restored the outer one's state
  }
  CHECK_FALSE(autocast_enabled(torch::kCPU));
  CHECK(torch::nn::functional::linear(x, w).scalar_type() == torch::kFloat);
}

TEST_CASE("training: LossScaler scales, unscales exactly, skips overflow, grows and round-trips",
          "[training][precision]") {
  LossScalerOptions so;
  so.init_scale = 1024;
  so.growth_interval = 3;
  LossScaler scaler(true, so);
  torch::Tensor p = torch::zeros({2}, torch::requires_grad());
  const torch::Tensor loss = torch::tensor(0.75);
  CHECK(scaler.scale(loss).item<double>() == 768.0);

  // Finite gradients are divided by the scale exactly (a power of two).
  p.mutable_grad() = torch::tensor({1.5 * 1024, -2.0 * 1024});
  CHECK(scaler.unscale({p}));
  CHECK(torch::equal(p.grad(), torch::tensor({1.5, -2.0})));
  // Growth after growth_interval consecutive finite steps.
  scaler.update(true);
  scaler.update(true);
  CHECK(scaler.current_scale() == 1024);
  scaler.update(true);
  CHECK(scaler.current_scale() == 2048);
  CHECK(scaler.growth_tracker() == 0);
  // inf or NaN anywhere: the step must be skipped; backoff halves the scale and resets growth.
  scaler.update(true);
  for (double bad : {std::numeric_limits<double>::infinity(), std::nan("")}) {
    p.mutable_grad() = torch::tensor({1.0, bad});
    CHECK_FALSE(scaler.unscale({p}));
    scaler.update(false);
  }
  CHECK(scaler.current_scale() == 512);
  CHECK(scaler.growth_tracker() == 0);
  CHECK(scaler.skipped_steps() == 2);
  // Parameters without gradients are ignored.
  CHECK(scaler.unscale({torch::zeros({3}, torch::requires_grad())}));

  // save / load round trip; an archive without a scaler (fp32 / bf16 state) keeps the current values.
  const auto reload = [&](const std::function<void(torch::serialize::OutputArchive&)>& write) {
    torch::serialize::OutputArchive out;
    write(out);
    std::stringstream buffer;
    out.save_to(buffer);
    torch::serialize::InputArchive in;
    in.load_from(buffer);
    LossScaler loaded(true, so);
    loaded.load(in);
    return loaded;
  };
  const LossScaler restored = reload([&](torch::serialize::OutputArchive& a) { scaler.save(a); });
  CHECK(restored.current_scale() == 512);
  CHECK(restored.skipped_steps() == 2);
  const LossScaler fresh = reload([](torch::serialize::OutputArchive& a) { a.write("step", torch::tensor(int64_t{3})); });
  CHECK(fresh.current_scale() == 1024);

  // Disabled (fp32, bf16): identity and never a skipped step.
  LossScaler off;
  CHECK(off.scale(loss).item<double>() == 0.75);
  p.mutable_grad() = torch::tensor({1.0, std::numeric_limits<double>::infinity()});
  CHECK(off.unscale({p}));
  CHECK(p.grad()[0].item<double>() == 1.0);
}

TEST_CASE("training: bf16 autocast training on the CPU learns and tracks fp32", "[training][precision]") {
  TempDir dir;
  const std::string data = write_toy_dataset(dir);
  TrainOptions o = learning_options(data);
  const TrainResult fp32 = train_unet(o, tiny_unet(), DiffusionOptions{}, dir.file("fp32"), false, "test");
  o.precision = "bf16";
  const TrainResult bf16 = train_unet(o, tiny_unet(), DiffusionOptions{}, dir.file("bf16"), false, "test");
  check_learned(bf16);
  // Same init and batches: the early losses differ by bf16 rounding only (and do differ, so autocast
  // was really on; step 1's are equal because the output convolution starts at zero).
  bool differ = false;
  for (int s = 0; s < 5; ++s) {
    INFO("step " << s + 1 << ": loss fp32 " << fp32.losses[s] << ", bf16 " << bf16.losses[s]);
    CHECK(std::abs(bf16.losses[s] - fp32.losses[s]) < 0.05 * fp32.losses[s]);
    differ = differ || bf16.losses[s] != fp32.losses[s];
  }
  CHECK(differ);
  CHECK(bf16.precision == "bf16");
  CHECK_THAT(bf16.brief(), Catch::Contains("cpu, bf16"));
  const UNetCheckpoint c = load_unet_checkpoint(dir.file("bf16"));
  CHECK(c.training.at("precision") == "bf16");
  CHECK(c.training.at("skipped_steps") == "0");
  // The saved (EMA) weights stay float32, and the scope is closed after training.
  for (const auto& p : c.model->parameters()) CHECK(p.scalar_type() == torch::kFloat);
  CHECK_FALSE(autocast_enabled(torch::kCPU));
  // fp16 needs CUDA: refused on the CPU before anything is written.
  o.precision = "fp16";
  CHECK_THAT(error_message([&] { train_unet(o, tiny_unet(), DiffusionOptions{}, dir.file("fp16"), false, "test"); }),
             Catch::Contains("fp16") && Catch::Contains("CUDA"));
  CHECK_FALSE(fs::exists(dir.file("fp16")));
}

TEST_CASE("training: bf16 and fp16 on CUDA learn, and fp16 resumes its loss scale", "[training][precision][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("skipping: no CUDA device");
    return;
  }
  TempDir dir;
  const std::string data = write_toy_dataset(dir);
  for (const char* precision : {"bf16", "fp16"}) {
    INFO("precision " << precision);
    TrainOptions o = learning_options(data);
    o.device = "cuda";
    o.precision = precision;
    const TrainResult r = train_unet(o, tiny_unet(), DiffusionOptions{}, dir.file(precision), false, "test");
    check_learned(r);
    CHECK(r.skipped_steps < 10);
  }
  // fp16 resume: the loss scaler's state travels in train_state.pt.
  TrainOptions o = tiny_options(data, 3);
  o.device = "cuda";
  o.precision = "fp16";
  train_unet(o, tiny_unet(), DiffusionOptions{}, dir.file("resume"), false, "test");
  torch::serialize::InputArchive archive;
  archive.load_from(dir.file("resume") + "/train_state.pt");
  torch::Tensor scale;
  REQUIRE(archive.try_read("loss_scale", scale));
  CHECK(scale.item<double>() > 0);
  o.steps = 6;
  const TrainResult resumed = train_unet(o, tiny_unet(), DiffusionOptions{}, dir.file("resume"), true, "test");
  CHECK(resumed.start_step == 3);
  CHECK(resumed.last_step == 6);
  for (double l : resumed.losses) CHECK(std::isfinite(l));
}
