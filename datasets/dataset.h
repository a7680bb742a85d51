#pragma once
// The HDF5 dataset format and dataset sources (docs/formats.md).
//
//   /images   float32 [N, C, H, W], values in [-1, 1], finite
//   /labels   int64 [N] (optional)
//   attributes on the root group: source, license, split (strings)
// Reading validates rank, dtype, range and finiteness and names the file and the broken rule.
// A source string is either a path to such a file or a built-in importer: "fashion-mnist:train" /
// "fashion-mnist:test" read Debian's IDX files (dataset-fashion-mnist) directly.
#include <torch/torch.h>

#include <string>

namespace ipbench {

struct DatasetAttributes {
  std::string source;
  std::string license;
  std::string split;
};

struct Dataset {
  torch::Tensor images;  ///< [N, C, H, W] float32 in [-1, 1]
  torch::Tensor labels;  ///< [N] int64, or undefined
  DatasetAttributes attributes;
  std::string origin;    ///< the file or source it came from
};

/// Reads images [first, first + count) (count < 0: to the end). Throws Error on a missing or corrupt
/// file, wrong rank or dtype, values outside [-1, 1] or non-finite values.
Dataset read_dataset(const std::string& path, int64_t first = 0, int64_t count = -1);
/// Writes atomically (temporary file, then rename).
void write_dataset(const std::string& path, const Dataset& dataset);

/// Default directory of Debian's dataset-fashion-mnist package.
constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
/// Reads Fashion-MNIST's IDX.gz files ("train" or "test"), maps [0, 255] to [-1, 1], and pads with
/// -1 (background) to pad_to x pad_to when pad_to > 28 (centered; 0 = no padding).
Dataset import_fashion_mnist(const std::string& split, int64_t pad_to = 0, const std::string& dir = kFashionMnistDir);

/// Loads a source: an HDF5 path or "fashion-mnist:<split>"; pad_to applies to importers (and must
/// match an HDF5 file's size when given, or be 0).
Dataset load_dataset_source(const std::string& source, int64_t pad_to = 0, int64_t first = 0, int64_t count = -1);

}  // namespace ipbench
