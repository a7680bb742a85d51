// PNG writer and image grids (see png.h). The encoder is the minimal valid PNG: one IDAT, filter 0.
#include "datasets/png.h"

#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/error.h"

namespace ipbench {

namespace {

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

// length, type, data, CRC32 over type + data (PNG spec 5.3).
void put_chunk(std::vector<uint8_t>& out, const char type[4], const std::vector<uint8_t>& data) {
  put_u32(out, static_cast<uint32_t>(data.size()));
  const size_t type_at = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  const uLong crc = crc32(crc32(0L, Z_NULL, 0), out.data() + type_at, static_cast<uInt>(4 + data.size()));
  put_u32(out, static_cast<uint32_t>(crc));
}

// Rows prefixed with filter byte 0, then deflated.
std::vector<uint8_t> compressed_scanlines(const uint8_t* pixels, int64_t height, int64_t row_bytes) {
  std::vector<uint8_t> raw;
  raw.reserve(static_cast<size_t>(height * (row_bytes + 1)));
  for (int64_t y = 0; y < height; ++y) {
    raw.push_back(0);
    raw.insert(raw.end(), pixels + y * row_bytes, pixels + (y + 1) * row_bytes);
  }
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<uint8_t> z(size);
  const int rc = compress2(z.data(), &size, raw.data(), static_cast<uLong>(raw.size()), 6);
  TORCH_CHECK(rc == Z_OK, "zlib compress2 failed with code ", rc);
  z.resize(size);
  return z;
}

std::vector<uint8_t> encode_png(const torch::Tensor& image) {
  const int64_t h = image.size(0), w = image.size(1), c = image.dim() == 3 ? 3 : 1;
  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> ihdr;
  put_u32(ihdr, static_cast<uint32_t>(w));
  put_u32(ihdr, static_cast<uint32_t>(h));
  // bit depth 8; color type 0 (gray) or 2 (RGB); compression, filter, interlace methods 0
  ihdr.insert(ihdr.end(), {8, static_cast<uint8_t>(c == 3 ? 2 : 0), 0, 0, 0});
  put_chunk(out, "IHDR", ihdr);
  const torch::Tensor pixels = image.contiguous();
  put_chunk(out, "IDAT", compressed_scanlines(pixels.data_ptr<uint8_t>(), h, w * c));
  put_chunk(out, "IEND", {});
  return out;
}

void write_bytes_atomic(const std::string& path, const std::vector<uint8_t>& bytes) {
  const std::string tmp = str_cat(path, ".tmp-", getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    f.close();
    if (!f) {
      std::remove(tmp.c_str());
      throw Error(str_cat(path, ": cannot write PNG (temporary file ", tmp, ")"));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw Error(str_cat(path, ": cannot write PNG: renaming ", tmp, " failed: ", std::strerror(err)));
  }
}

}  // namespace

namespace {

// Error naming `what` (the file, or "png_bytes") unless `image` is a PNG-able uint8 [H, W] or [H, W, 3].
void check_png_image(const std::string& what, const torch::Tensor& image) {
  require(image.defined(), what, ": write_png needs an image tensor (got an undefined one)");
  require(image.scalar_type() == torch::kByte, what, ": write_png needs a uint8 image, got ", image.scalar_type());
  const bool gray = image.dim() == 2, rgb = image.dim() == 3 && image.size(2) == 3;
  require(gray || rgb, what, ": write_png needs [H, W] (gray) or [H, W, 3] (RGB), got ", image.sizes());
  require(image.size(0) >= 1 && image.size(1) >= 1 && image.size(0) <= 0x7fffffff && image.size(1) <= 0x7fffffff,
          what, ": write_png needs 1 <= H, W < 2^31, got ", image.sizes());
}

}  // namespace

void write_png(const std::string& path, const torch::Tensor& image) {
  check_png_image(path, image);
  write_bytes_atomic(path, encode_png(image.to(torch::kCPU)));
}

std::string png_bytes(const torch::Tensor& image) {
  check_png_image("png_bytes", image);
  const std::vector<uint8_t> bytes = encode_png(image.to(torch::kCPU));
  return std::string(bytes.begin(), bytes.end());
}

torch::Tensor image_grid(const torch::Tensor& images, int64_t nrow, int64_t padding) {
  require(images.defined() && images.dim() == 4, "image_grid needs images [N, C, H, W], got ",
          images.defined() ? images.sizes() : at::IntArrayRef{});
  const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  require(n >= 1 && (c == 1 || c == 3) && h >= 1 && w >= 1,
          "image_grid needs N >= 1 images with C = 1 or 3 channels, got ", images.sizes());
  require(images.is_floating_point(), "image_grid needs floating images in [-1, 1], got ", images.scalar_type());
  require(nrow >= 1, "image_grid: nrow = ", nrow, ". Violated: nrow >= 1");
  require(padding >= 0, "image_grid: padding = ", padding, ". Violated: padding >= 0");
  const int64_t cols = std::min(nrow, n), rows = (n + nrow - 1) / nrow;
  const torch::Tensor u8 = ((torch::nan_to_num(images.detach().to(torch::kCPU, torch::kFloat), 0.0).clamp(-1, 1) + 1) *
                            127.5)
                               .round()
                               .to(torch::kByte);
  torch::Tensor grid = torch::full({c, rows * (h + padding) + padding, cols * (w + padding) + padding}, 255,
                                   torch::kByte);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t y = padding + (i / cols) * (h + padding), x = padding + (i % cols) * (w + padding);
    grid.narrow(1, y, h).narrow(2, x, w).copy_(u8[i]);
  }
  return c == 1 ? grid[0].contiguous() : grid.permute({1, 2, 0}).contiguous();
}

}  // namespace ipbench
