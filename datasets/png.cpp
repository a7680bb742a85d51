// PNG writer and image grids (see png.h). The encoder is the minimal valid PNG: one IDAT, filter 0.
#include "datasets/png.h"

#include <zlib.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/atomic_file.h"
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
  const std::vector<uint8_t> bytes = encode_png(image.to(torch::kCPU));
  write_file_atomic(path, std::string(bytes.begin(), bytes.end()), "PNG");
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

// ---------------------------------------------------------------------------------------------
// Decoding (PNG spec: chunks 5, filters 9, color types and bit depths 11.2.2).

namespace {

uint32_t get_u32(const std::string& b, size_t at) {
  return (uint32_t(uint8_t(b[at])) << 24) | (uint32_t(uint8_t(b[at + 1])) << 16) | (uint32_t(uint8_t(b[at + 2])) << 8) |
         uint32_t(uint8_t(b[at + 3]));
}

uint8_t paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return static_cast<uint8_t>(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

}  // namespace

torch::Tensor decode_png(const std::string& bytes, const std::string& what) {
  static const std::string signature("\x89PNG\r\n\x1a\n", 8);
  require(bytes.size() >= 8 && bytes.compare(0, 8, signature) == 0, what, ": not a PNG file (bad signature)");
  uint32_t width = 0, height = 0;
  int depth = 0, color = -1, interlace = 0;
  std::string idat, palette;
  bool ended = false;
  for (size_t at = 8; at < bytes.size() && !ended;) {
    require(at + 12 <= bytes.size(), what, ": truncated PNG (a chunk header runs past the end)");
    const uint32_t len = get_u32(bytes, at);
    require(at + 12 + size_t(len) <= bytes.size(), what, ": truncated PNG (chunk of ", len, " bytes runs past the end)");
    const std::string type = bytes.substr(at + 4, 4), data = bytes.substr(at + 8, len);
    const uLong crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data() + at + 4), len + 4);
    require(get_u32(bytes, at + 8 + len) == uint32_t(crc), what, ": corrupt PNG (CRC mismatch in chunk ", type, ")");
    if (type == "IHDR") {
      require(len == 13, what, ": corrupt PNG (IHDR of ", len, " bytes)");
      width = get_u32(data, 0);
      height = get_u32(data, 4);
      depth = uint8_t(data[8]);
      color = uint8_t(data[9]);
      interlace = uint8_t(data[12]);
    } else if (type == "PLTE") {
      palette = data;
    } else if (type == "IDAT") {
      idat += data;
    } else if (type == "IEND") {
      ended = true;
    }
    at += 12 + len;
  }
  require(color >= 0, what, ": corrupt PNG (no IHDR chunk)");
  require(width >= 1 && height >= 1 && width <= kPngMaxSide && height <= kPngMaxSide, what, ": PNG of ", width, "x",
          height, " pixels: supported are 1 to ", kPngMaxSide, " per side");
  require(interlace == 0, what, ": interlaced (Adam7) PNG is not supported; save it non-interlaced");
  int channels = 0;
  switch (color) {
    case 0: channels = 1; break;  // gray
    case 2: channels = 3; break;  // RGB
    case 3: channels = 1; break;  // palette index
    case 4: channels = 2; break;  // gray + alpha
    case 6: channels = 4; break;  // RGBA
    default: throw Error(str_cat(what, ": corrupt PNG (color type ", color, ")"));
  }
  const bool depth_ok = color == 0 ? (depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16)
                        : color == 3 ? (depth == 1 || depth == 2 || depth == 4 || depth == 8)
                                     : (depth == 8 || depth == 16);
  require(depth_ok, what, ": corrupt PNG (bit depth ", depth, " with color type ", color, ")");
  require(color != 3 || !palette.empty(), what, ": palette PNG without a PLTE chunk");

  const size_t bits_per_pixel = size_t(channels) * depth, row_bytes = (size_t(width) * bits_per_pixel + 7) / 8;
  const size_t bpp = std::max<size_t>(1, bits_per_pixel / 8);  // filter byte distance
  // Checked before anything is allocated: a tiny file may declare a huge image.
  const size_t raw_size = size_t(height) * (row_bytes + 1);
  require(raw_size <= kPngMaxDataBytes, what, ": PNG of ", width, "x", height, " pixels (", channels, " channel(s), ",
          depth, "-bit) holds ", raw_size, " bytes of image data; the limit is ", kPngMaxDataBytes,
          " bytes (256 MiB; datasets/png.h)");
  // deflate expands at most ~1032:1, so less compressed data than raw_size / 1032 cannot be the image.
  require(raw_size <= idat.size() * 1032 + 1024, what, ": truncated or corrupt PNG (", idat.size(),
          " bytes of compressed data cannot hold a ", width, "x", height, " image of ", raw_size, " bytes)");
  std::vector<uint8_t> raw(raw_size);
  uLongf raw_len = raw.size();
  const int rc = uncompress(raw.data(), &raw_len, reinterpret_cast<const Bytef*>(idat.data()), idat.size());
  require(rc == Z_OK && raw_len == raw.size(), what, ": corrupt PNG (image data does not inflate to ", height,
          " rows of ", row_bytes, " bytes)");
  // Undo the filters in place, row by row.
  std::vector<uint8_t> pixels(size_t(height) * row_bytes);
  for (size_t y = 0; y < height; ++y) {
    const uint8_t filter = raw[y * (row_bytes + 1)];
    const uint8_t* in = raw.data() + y * (row_bytes + 1) + 1;
    uint8_t* out = pixels.data() + y * row_bytes;
    const uint8_t* up = y > 0 ? out - row_bytes : nullptr;
    require(filter <= 4, what, ": corrupt PNG (filter type ", int(filter), " in row ", y, ")");
    for (size_t x = 0; x < row_bytes; ++x) {
      const int a = x >= bpp ? out[x - bpp] : 0, b = up ? up[x] : 0, c = (up && x >= bpp) ? up[x - bpp] : 0;
      int v = in[x];
      switch (filter) {
        case 1: v += a; break;
        case 2: v += b; break;
        case 3: v += (a + b) / 2; break;
        case 4: v += paeth(a, b, c); break;
        default: break;
      }
      out[x] = static_cast<uint8_t>(v);
    }
  }
  // Samples -> 8-bit: 16-bit keeps the high byte; 1/2/4-bit gray scales to 0..255; palette looks up.
  const int out_channels = (color == 2 || color == 3 || color == 6) ? 3 : 1;
  torch::Tensor image = torch::empty({int64_t(height), int64_t(width), out_channels}, torch::kByte);
  uint8_t* dst = image.data_ptr<uint8_t>();
  for (size_t y = 0; y < height; ++y) {
    const uint8_t* row = pixels.data() + y * row_bytes;
    for (size_t x = 0; x < width; ++x) {
      uint8_t* px = dst + (y * width + x) * out_channels;
      if (depth < 8) {
        const size_t bit = x * depth;
        const int v = (row[bit / 8] >> (8 - depth - bit % 8)) & ((1 << depth) - 1);
        if (color == 3) {
          require(size_t(v) * 3 + 2 < palette.size(), what, ": corrupt PNG (palette index ", v, " beyond PLTE)");
          for (int k = 0; k < 3; ++k) px[k] = uint8_t(palette[v * 3 + k]);
        } else {
          px[0] = static_cast<uint8_t>(v * 255 / ((1 << depth) - 1));
        }
        continue;
      }
      const size_t step = depth / 8, at = x * channels * step;
      if (color == 3) {
        const int v = row[at];
        require(size_t(v) * 3 + 2 < palette.size(), what, ": corrupt PNG (palette index ", v, " beyond PLTE)");
        for (int k = 0; k < 3; ++k) px[k] = uint8_t(palette[v * 3 + k]);
      } else {
        for (int k = 0; k < out_channels; ++k) px[k] = row[at + k * step];  // alpha (the last channel) dropped
      }
    }
  }
  return out_channels == 1 ? image.squeeze(2) : image;
}

torch::Tensor read_png(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  require(static_cast<bool>(in), path, ": cannot be opened");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return decode_png(bytes, path);
}

}  // namespace ipbench
