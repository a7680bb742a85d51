// Fashion-MNIST importer: IDX files compressed with gzip, as shipped by Debian's dataset-fashion-mnist.
//
// IDX layout (big endian): uint32 magic (0x00000803 = 2051 for uint8 rank-3 images, 0x00000801 = 2049
// for uint8 rank-1 labels), one uint32 per dimension, then the uint8 values in row-major order.
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/error.h"
#include "datasets/dataset.h"

namespace ipbench {
namespace {

constexpr uint32_t kImagesMagic = 2051;
constexpr uint32_t kLabelsMagic = 2049;
constexpr int64_t kSide = 28;
constexpr int64_t kClasses = 10;
constexpr int64_t kMaxValues = int64_t{1} << 32;  // refuse to allocate for a corrupt header

using GzFile = std::unique_ptr<gzFile_s, decltype(&gzclose)>;

GzFile open_gz(const std::string& path) {
  gzFile raw = gzopen(path.c_str(), "rb");
  require(raw != nullptr, path, ": cannot be opened (is the dataset-fashion-mnist package installed?)");
  gzbuffer(raw, 1 << 20);  // fewer, larger reads: the train images are 26 MB compressed
  return GzFile(raw, &gzclose);
}

// Reads up to n bytes into dst and returns how many it read; throws on corrupt gzip data.
size_t gz_read(gzFile file, uint8_t* dst, size_t n, const std::string& path) {
  size_t done = 0;
  while (done < n) {
    const unsigned block = static_cast<unsigned>(std::min<size_t>(n - done, size_t{1} << 30));
    const int got = gzread(file, dst + done, block);
    int errnum = Z_OK;
    const char* msg = gzerror(file, &errnum);
    // A truncated stream reports Z_BUF_ERROR after returning what it could decompress.
    require(got >= 0 && (errnum == Z_OK || errnum == Z_STREAM_END), path, ": corrupt or truncated gzip data (",
            msg, ")");
    done += static_cast<size_t>(got);
    if (got < static_cast<int>(block)) break;
  }
  return done;
}

uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

struct IdxFile {
  std::vector<int64_t> dims;
  torch::Tensor values;  ///< uint8, flat
};

// Reads an IDX.gz file, checking its magic number and that its size matches its header. The values
// are decompressed straight into a tensor sized from the header (no growing buffer, no extra copy).
IdxFile read_idx(const std::string& path, uint32_t magic, size_t rank) {
  GzFile file = open_gz(path);
  std::vector<uint8_t> header(4 + 4 * rank);
  const size_t got = gz_read(file.get(), header.data(), header.size(), path);
  require(got == header.size(), path, ": truncated IDX header (", got, " bytes)");
  const uint32_t found = big_endian_u32(header.data());
  require(found == magic, path, ": bad IDX magic number ", found, " (expected ", magic, ")");
  IdxFile idx;
  int64_t values = 1;
  for (size_t i = 0; i < rank; ++i) {
    const int64_t dim = big_endian_u32(header.data() + 4 + 4 * i);
    require(dim == 0 || values <= kMaxValues / dim, path, ": implausible IDX dimensions (more than ", kMaxValues,
            " values)");
    idx.dims.push_back(dim);
    values *= dim;
  }
  idx.values = torch::empty({values}, torch::kUInt8);
  const size_t read = gz_read(file.get(), idx.values.data_ptr<uint8_t>(), static_cast<size_t>(values), path);
  uint8_t extra = 0;
  const size_t more = read == static_cast<size_t>(values) ? gz_read(file.get(), &extra, 1, path) : 0;
  require(read == static_cast<size_t>(values) && more == 0, path, ": size mismatch: the header announces ",
          values, " values but the file holds ", more ? "more" : std::to_string(read));
  return idx;
}

// Raw pixels [N, 1, 28, 28] uint8.
torch::Tensor read_pixels(const std::string& path) {
  IdxFile idx = read_idx(path, kImagesMagic, 3);
  require(idx.dims[1] == kSide && idx.dims[2] == kSide, path, ": images are ", idx.dims[1], "x", idx.dims[2],
          ", expected ", kSide, "x", kSide);
  return idx.values.view({idx.dims[0], 1, kSide, kSide});
}

torch::Tensor read_labels(const std::string& path) {
  IdxFile idx = read_idx(path, kLabelsMagic, 1);
  torch::Tensor labels = idx.values.to(torch::kLong);
  require(labels.numel() == 0 || labels.max().item<int64_t>() < kClasses, path, ": labels must lie in 0..",
          kClasses - 1, "; found ", labels.numel() ? labels.max().item<int64_t>() : 0);
  return labels;
}

// Centers the pixels in pad_to x pad_to (the extra pixel of an odd margin goes right/bottom). The
// border is pixel 0, which maps to -1 (background); padding uint8 before converting moves 4x fewer
// bytes than padding floats.
torch::Tensor pad_pixels(const torch::Tensor& pixels, int64_t pad_to) {
  if (pad_to <= kSide) return pixels;
  const int64_t before = (pad_to - kSide) / 2;
  torch::Tensor padded = torch::zeros({pixels.size(0), 1, pad_to, pad_to}, torch::kUInt8);
  padded.narrow(2, before, kSide).narrow(3, before, kSide).copy_(pixels);
  return padded;
}

// p in [0, 255] -> p / 127.5 - 1 in [-1, 1], as vectorized ops on the whole uint8 tensor.
torch::Tensor pixels_to_unit_range(const torch::Tensor& pixels) {
  return pixels.to(torch::kFloat).div_(127.5).sub_(1.0);
}

}  // namespace

Dataset import_fashion_mnist(const std::string& split, int64_t pad_to, const std::string& dir) {
  require(split == "train" || split == "test", "fashion-mnist: unknown split '", split,
          "' (valid: train, test)");
  require(pad_to == 0 || pad_to >= kSide, "fashion-mnist: pad_to = ", pad_to,
          ". Violated: pad_to == 0 or pad_to >= 28 (images are 28x28 and are never cropped)");  // before any I/O
  const std::string stem = dir + "/" + (split == "train" ? "train" : "t10k");
  const std::string images_path = stem + "-images-idx3-ubyte.gz";
  const std::string labels_path = stem + "-labels-idx1-ubyte.gz";
  Dataset d;
  d.images = pixels_to_unit_range(pad_pixels(read_pixels(images_path), pad_to));
  d.labels = read_labels(labels_path);
  require(d.images.size(0) == d.labels.size(0), labels_path, ": holds ", d.labels.size(0), " labels but ",
          images_path, " holds ", d.images.size(0), " images");
  d.attributes = {"Fashion-MNIST (Zalando Research), Debian package dataset-fashion-mnist", "MIT", split};
  d.origin = "fashion-mnist:" + split;
  return d;
}

}  // namespace ipbench
