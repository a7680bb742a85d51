#pragma once
// The HDF5 dataset format and dataset sources (docs/formats.md).
//
//   /images   float32 [N, C, H, W], values in [-1, 1], finite; chunked (a few images per chunk), gzip 4
//   /labels   int64 [N] (optional)
//   attributes on the root group: source, license, split (strings; a missing one reads as "")
// Reading validates rank, dtype, range and finiteness and names the file and the broken rule.
// A source string is either a path to such a file or a built-in importer: "fashion-mnist:train" /
// "fashion-mnist:test" read Debian's IDX files (dataset-fashion-mnist) directly.
// Nothing is cached: every call reads its files again.
#include <torch/torch.h>

#include <cstdint>
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

/// Reads images [first, first + count) (count < 0: to the end) and the matching labels; only that
/// hyperslab is read from disk. Throws Error naming the file and the broken rule when the file is
/// missing, not HDF5 or corrupt, lacks /images, /images is not rank 4 or not float32 (the message says
/// what it found), a value is non-finite or outside [-1, 1] (min/max and the first offending image's
/// index), /labels is not an integer [N] array, or [first, first + count) is not within [0, N].
Dataset read_dataset(const std::string& path, int64_t first = 0, int64_t count = -1);

/// Writes atomically: to "<path>.tmp-<pid>", then rename (a failed write leaves `path` untouched and
/// no temporary file). Throws Error, writing nothing, when the dataset would not read back: images not
/// [N >= 1, C, H, W] with C, H, W >= 1, non-finite or outside [-1, 1], or labels not of length N.
/// Images are stored as float32 (converted if needed), labels as int64.
void write_dataset(const std::string& path, const Dataset& dataset);

/// Default directory of Debian's dataset-fashion-mnist package.
constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
/// Reads Fashion-MNIST's IDX.gz files ("train": 60000 images, "test": 10000) from `dir`, maps pixel
/// p in [0, 255] to p / 127.5 - 1, and pads with -1 (background) to pad_to x pad_to when pad_to > 28
/// (centered; an odd margin puts the extra pixel right/bottom). pad_to = 0 or 28: no padding.
/// Throws Error for another split, 0 < pad_to < 28, or a missing/corrupt file (bad magic number,
/// size, label outside 0..9, or image/label counts that differ), naming the file.
Dataset import_fashion_mnist(const std::string& split, int64_t pad_to = 0, const std::string& dir = kFashionMnistDir);

/// Reads a folder of PNG files (sorted by name, no labels), or, when it holds none, its subfolders of
/// PNG files as classes (torchvision's ImageFolder layout: subfolders sorted by name, label = index,
/// recorded in the source attribute). Pixels p in [0, 255] map to p / 127.5 - 1; alpha is dropped.
/// channels: 1 (RGB -> BT.601 luma), 3 (gray replicated) or 0 (3 when any image has color, else 1).
/// resize > 0 scales every image to resize x resize (area averaging when shrinking, bilinear when
/// enlarging; the aspect ratio is not kept); 0 requires every image to have the first one's size.
/// Throws Error naming the folder or file: no PNG found, an undecodable file (datasets/png.h), a size
/// mismatch, or bad options.
Dataset import_png_folder(const std::string& dir, int64_t channels = 0, int64_t resize = 0);

/// Loads a source: an HDF5 path or "fashion-mnist:<split>", items [first, first + count) (count < 0:
/// to the end). pad_to applies to importers; for an HDF5 file it must be 0 or equal the file's H and W
/// (Error otherwise: files are never resized).
Dataset load_dataset_source(const std::string& source, int64_t pad_to = 0, int64_t first = 0, int64_t count = -1);

/// Checks 0 <= first <= n and first + count <= n (count < 0 means n - first) and returns the
/// resolved count; throws Error naming `what` (a file or source) otherwise.
int64_t resolve_item_range(int64_t n, int64_t first, int64_t count, const std::string& what);

}  // namespace ipbench
