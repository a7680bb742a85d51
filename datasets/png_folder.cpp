// PNG folder importer (`ipbench dataset import png`): a folder of PNG files, or of class subfolders
// holding PNG files (torchvision's ImageFolder layout), as an ipbench dataset.
#include <algorithm>
#include <filesystem>
#include <vector>

#include "core/error.h"
#include "datasets/dataset.h"
#include "datasets/png.h"

namespace ipbench {
namespace {

namespace fs = std::filesystem;

bool is_png(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png";
}

std::vector<fs::path> png_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && is_png(e.path())) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

// uint8 [H, W] or [H, W, 3] -> float [C, H, W] in [-1, 1] with the requested channel count
// (3 -> 1: BT.601 luma; 1 -> 3: replicated).
torch::Tensor to_channels(const torch::Tensor& u8, int64_t channels) {
  torch::Tensor x = u8.to(torch::kFloat).div(127.5).sub(1.0);
  x = x.dim() == 2 ? x.unsqueeze(0) : x.permute({2, 0, 1});
  if (channels == 1 && x.size(0) == 3) {
    x = (0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2]).unsqueeze(0);
  } else if (channels == 3 && x.size(0) == 1) {
    x = x.expand({3, -1, -1});
  }
  return x.contiguous();
}

// N x N: area averaging when shrinking (no aliasing), bilinear when enlarging.
torch::Tensor resized(const torch::Tensor& x, int64_t n) {
  if (x.size(1) == n && x.size(2) == n) return x;
  namespace F = torch::nn::functional;
  const bool shrink = x.size(1) >= n && x.size(2) >= n;
  auto o = F::InterpolateFuncOptions().size(std::vector<int64_t>{n, n});
  if (shrink) o.mode(torch::kArea);
  else o.mode(torch::kBilinear).align_corners(false);
  return F::interpolate(x.unsqueeze(0), o).squeeze(0).clamp(-1.0, 1.0);
}

}  // namespace

Dataset import_png_folder(const std::string& dir, int64_t channels, int64_t resize) {
  require(channels == 0 || channels == 1 || channels == 3, "png import: channels = ", channels,
          ": use 1 (gray), 3 (RGB) or 0 (3 when any image has color, else 1)");
  require(resize >= 0, "png import: resize = ", resize, ": must be >= 0 (0 = keep the size)");
  require(fs::is_directory(dir), dir, ": not a folder");
  // Flat PNG files, or class subfolders (sorted; label = index) when the folder holds no PNG itself.
  std::vector<fs::path> files = png_files(dir);
  std::vector<int64_t> labels;
  std::vector<std::string> classes;
  if (files.empty()) {
    std::vector<fs::path> subdirs;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_directory()) subdirs.push_back(e.path());
    std::sort(subdirs.begin(), subdirs.end());
    for (const fs::path& sub : subdirs) {
      const auto inside = png_files(sub);
      if (inside.empty()) continue;
      for (const auto& f : inside) {
        files.push_back(f);
        labels.push_back(static_cast<int64_t>(classes.size()));
      }
      classes.push_back(sub.filename().string());
    }
  }
  require(!files.empty(), dir, ": holds no .png file (neither directly nor in class subfolders)");

  std::vector<torch::Tensor> decoded;
  decoded.reserve(files.size());
  bool color = false;
  for (const fs::path& f : files) {
    decoded.push_back(read_png(f.string()));
    color = color || decoded.back().dim() == 3;
  }
  const int64_t c = channels > 0 ? channels : (color ? 3 : 1);
  std::vector<torch::Tensor> images;
  images.reserve(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    torch::Tensor x = to_channels(decoded[i], c);
    if (resize > 0) x = resized(x, resize);
    if (!images.empty())
      require(x.sizes() == images.front().sizes(), files[i].string(), ": ", x.size(1), "x", x.size(2),
              " pixels, but ", files.front().string(), " has ", images.front().size(1), "x", images.front().size(2),
              ": images of one dataset share a size (pass --resize N to scale them all to N x N)");
    images.push_back(x);
  }
  Dataset d;
  d.images = torch::stack(images);
  if (!labels.empty()) d.labels = torch::tensor(labels, torch::kLong);
  std::string source = "PNG folder " + dir;
  if (!classes.empty()) {
    source += " (classes:";
    for (size_t k = 0; k < classes.size(); ++k) source += str_cat(k ? ", " : " ", k, " = ", classes[k]);
    source += ")";
  }
  d.attributes = {source, "as the source images", ""};
  d.origin = dir;
  return d;
}

}  // namespace ipbench
