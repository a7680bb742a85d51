#pragma once
// PNG output (8-bit grayscale or RGB images, a grid of [-1, 1] images for sample sheets) and input (a
// decoder for `ipbench dataset import png`).
//
// write_png writes a plain PNG (signature, IHDR, one zlib-compressed IDAT with filter type 0 on
// every row, IEND; CRC32 of each chunk from zlib), non-interlaced, bit depth 8, color type 0 (gray)
// or 2 (RGB). The file is written atomically ("<path>.tmp-<pid>", then rename): a failed write leaves
// `path` untouched and no temporary file behind.
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace ipbench {

/// Writes a uint8 image [H, W] (gray) or [H, W, 3] (RGB), H, W >= 1, as a PNG file.
/// Throws Error for another dtype or shape (the message names what it found) and for I/O failures
/// (naming the file).
void write_png(const std::string& path, const torch::Tensor& image);

/// The same PNG file as write_png, in memory (for embedding, e.g. as a data URI). Same checks.
std::string png_bytes(const torch::Tensor& image);

/// Limits of decode_png, checked on the header before anything is allocated (a 150-byte file may
/// declare 65536 x 65536 pixels): each side at most 65535 pixels, and the decompressed image data
/// (height rows of 1 + width * channels * bit depth / 8 bytes) at most 2^28 bytes = 256 MiB (an 8-bit
/// RGBA image of 8192 x 8192; far beyond any benchmark image).
constexpr uint32_t kPngMaxSide = 65535;
constexpr size_t kPngMaxDataBytes = size_t(1) << 28;

/// Decodes PNG bytes into uint8 [H, W] (gray, 1/2/4/8/16-bit, optional alpha) or [H, W, 3] (RGB,
/// RGBA, palette): 16-bit samples keep their high byte, sub-byte gray scales to 0..255, alpha is
/// dropped. Non-interlaced only. Throws Error naming `what` (the file) for a bad signature, truncated
/// or CRC-corrupt chunks, dimensions beyond the limits above, data that does not inflate to the image,
/// an unknown filter, or an interlaced image.
torch::Tensor decode_png(const std::string& bytes, const std::string& what);
/// decode_png of a file; Error naming the file when it cannot be read.
torch::Tensor read_png(const std::string& path);

/// Tiles images [N, C, H, W] (C = 1 or 3, floating, values in [-1, 1]; clamped, NaN -> 0) into one
/// uint8 image: `nrow` images per row (torchvision's make_grid convention), ceil(N / nrow) rows,
/// `padding` pixels of white (255) around and between the tiles. A pixel v maps to
/// round((v + 1) * 127.5). Returns [H', W'] for C = 1 and [H', W', 3] for C = 3 with
/// H' = rows (H + padding) + padding, W' = min(nrow, N) (W + padding) + padding.
/// Throws Error for another rank or channel count, N = 0, a non-floating dtype, nrow < 1 or padding < 0.
torch::Tensor image_grid(const torch::Tensor& images, int64_t nrow, int64_t padding = 2);

}  // namespace ipbench
