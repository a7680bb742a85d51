// Tests for datasets/: the HDF5 format (round trip, hyperslabs, atomic writes, validation errors),
// the Fashion-MNIST importer and dataset sources.
#include <catch2/catch.hpp>

#include <H5Cpp.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <vector>

#include "core/error.h"
#include "datasets/dataset.h"
#include "datasets/png.h"
#include "error_message.h"
#include "temp_dir.h"

using namespace ipbench;
namespace fs = std::filesystem;

namespace {

using testing::TempDir;

// [n, c, h, w] deterministic values covering [-1, 1], both ends included.
torch::Tensor demo_images(int64_t n, int64_t c = 1, int64_t h = 4, int64_t w = 5) {
  torch::Tensor x = torch::linspace(-1.0, 1.0, n * c * h * w, torch::kFloat);
  return x.reshape({n, c, h, w});
}

Dataset demo_dataset(int64_t n) {
  Dataset d;
  d.images = demo_images(n);
  d.labels = torch::arange(n, torch::kLong) * 7 % 10;
  d.attributes = {"unit test", "CC0", "test"};
  return d;
}

// Writes `values` (float64 or float32 as `type` says) as /images with the given dims, bypassing our checks.
template <class T>
void write_raw_images(const std::string& path, const std::vector<hsize_t>& dims, const std::vector<T>& values,
                      const H5::PredType& type) {
  H5::H5File file(path, H5F_ACC_TRUNC);
  H5::DataSet ds = file.createDataSet("images", type, H5::DataSpace(static_cast<int>(dims.size()), dims.data()));
  ds.write(values.data(), type);
}

// The message of the Error that `f` throws (fails the test when it throws nothing).
using testing::error_message;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  return names;
}

bool have_fashion_mnist() {
  if (fs::is_directory(kFashionMnistDir)) return true;
  WARN("skipping: " << kFashionMnistDir << " is missing (install dataset-fashion-mnist)");
  return false;
}

void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  if (!bytes.empty()) gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

// An IDX header: magic, then dims, big endian.
std::vector<uint8_t> idx_header(uint32_t magic, const std::vector<uint32_t>& dims) {
  std::vector<uint8_t> out;
  auto put = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
  };
  put(magic);
  for (uint32_t d : dims) put(d);
  return out;
}

}  // namespace

TEST_CASE("datasets: write_dataset then read_dataset round-trips images, labels and attributes", "[datasets][hdf5]") {
  TempDir dir;
  const std::string path = dir.file("round.h5");
  const Dataset d = demo_dataset(7);
  write_dataset(path, d);

  const Dataset r = read_dataset(path);
  CHECK(r.images.scalar_type() == torch::kFloat);
  CHECK(r.images.sizes() == d.images.sizes());
  CHECK(torch::equal(r.images, d.images));
  REQUIRE(r.labels.defined());
  CHECK(r.labels.scalar_type() == torch::kLong);
  CHECK(torch::equal(r.labels, d.labels));
  CHECK(r.attributes.source == "unit test");
  CHECK(r.attributes.license == "CC0");
  CHECK(r.attributes.split == "test");
  CHECK(r.origin == path);

  SECTION("a hyperslab [first, first + count)") {
    const Dataset s = read_dataset(path, 2, 3);
    CHECK(torch::equal(s.images, d.images.narrow(0, 2, 3)));
    CHECK(torch::equal(s.labels, d.labels.narrow(0, 2, 3)));
  }
  SECTION("count < 0 reads to the end; count = 0 reads nothing") {
    CHECK(torch::equal(read_dataset(path, 5).images, d.images.narrow(0, 5, 2)));
    const Dataset empty = read_dataset(path, 7, 0);
    CHECK(empty.images.sizes() == torch::IntArrayRef({0, 1, 4, 5}));
    CHECK(empty.labels.size(0) == 0);
  }
}

TEST_CASE("datasets: datasets without labels, with several channels, and float64 input are stored as float32", "[datasets][hdf5]") {
  TempDir dir;
  const std::string path = dir.file("rgb.h5");
  Dataset d;
  d.images = demo_images(3, 3, 8, 6).to(torch::kDouble);
  write_dataset(path, d);
  const Dataset r = read_dataset(path);
  CHECK_FALSE(r.labels.defined());
  CHECK(r.images.scalar_type() == torch::kFloat);
  CHECK(torch::equal(r.images, d.images.to(torch::kFloat)));
  CHECK(r.attributes.source.empty());
}

TEST_CASE("datasets: /images is chunked and gzip-compressed", "[datasets][hdf5]") {
  TempDir dir;
  const std::string path = dir.file("chunks.h5");
  write_dataset(path, demo_dataset(40));
  H5::H5File file(path, H5F_ACC_RDONLY);
  const H5::DSetCreatPropList props = file.openDataSet("images").getCreatePlist();
  REQUIRE(props.getLayout() == H5D_CHUNKED);
  hsize_t chunk[4] = {0, 0, 0, 0};
  props.getChunk(4, chunk);
  CHECK(chunk[0] >= 1);
  CHECK(chunk[0] <= 16);
  CHECK(chunk[1] == 1);
  CHECK(chunk[2] == 4);
  CHECK(chunk[3] == 5);
  bool gzip = false;
  for (int i = 0; i < props.getNfilters(); ++i) {
    unsigned flags = 0, level = 0;
    size_t n = 1;
    char name[64];
    unsigned config = 0;
    if (props.getFilter(i, flags, n, &level, sizeof(name), name, config) == H5Z_FILTER_DEFLATE) gzip = (level == 4);
  }
  CHECK(gzip);
}

TEST_CASE("datasets: write_dataset is atomic and leaves no temporary file", "[datasets][hdf5]") {
  TempDir dir;
  const std::string path = dir.file("atomic.h5");
  write_dataset(path, demo_dataset(4));
  write_dataset(path, demo_dataset(5));  // overwriting replaces the file
  CHECK(entries(dir.path) == std::vector<std::string>{"atomic.h5"});
  CHECK(read_dataset(path).images.size(0) == 5);

  SECTION("invalid data is refused and the previous file is kept") {
    Dataset bad = demo_dataset(3);
    bad.images[1][0][0][0] = 2.0f;
    const std::string msg = error_message([&] { write_dataset(path, bad); });
    CHECK(contains(msg, path));
    CHECK(contains(msg, "[-1, 1]"));
    bad = demo_dataset(3);
    bad.labels = torch::zeros({2}, torch::kLong);
    CHECK(contains(error_message([&] { write_dataset(path, bad); }), "one label per image"));
    bad.images = torch::zeros({3, 4, 5});
    CHECK(contains(error_message([&] { write_dataset(path, bad); }), "[N, C, H, W]"));
    CHECK(entries(dir.path) == std::vector<std::string>{"atomic.h5"});
    CHECK(read_dataset(path).images.size(0) == 5);
  }
  SECTION("an unwritable destination is an Error and leaves nothing behind") {
    const std::string nowhere = dir.file("missing_dir/x.h5");
    const std::string msg = error_message([&] { write_dataset(nowhere, demo_dataset(2)); });
    CHECK(contains(msg, nowhere));
    CHECK(contains(msg, "cannot write the dataset"));
    CHECK(entries(dir.path) == std::vector<std::string>{"atomic.h5"});
  }
}

TEST_CASE("datasets: read_dataset rejects broken files naming the file and the rule", "[datasets][hdf5][errors]") {
  TempDir dir;
  std::string path;
  auto message = [&](int64_t first = 0, int64_t count = -1) {
    return error_message([&] { read_dataset(path, first, count); });
  };

  SECTION("missing file") {
    path = dir.file("nope.h5");
    CHECK(contains(message(), path));
    CHECK(contains(message(), "cannot be opened"));
  }
  SECTION("garbage is not an HDF5 file") {
    path = dir.file("garbage.h5");
    std::ofstream(path) << "this is not HDF5, just some text long enough to look like a file\n";
    CHECK(contains(message(), path));
    CHECK(contains(message(), "not an HDF5 file"));
  }
  SECTION("a truncated file is corrupt") {
    path = dir.file("truncated.h5");
    write_dataset(path, demo_dataset(50));
    fs::resize_file(path, fs::file_size(path) / 2);
    CHECK(contains(message(), path));
    CHECK(contains(message(), "corrupt or truncated"));
  }
  SECTION("missing /images") {
    path = dir.file("noimages.h5");
    {
      H5::H5File file(path, H5F_ACC_TRUNC);
      const hsize_t n = 3;
      file.createDataSet("labels", H5::PredType::STD_I64LE, H5::DataSpace(1, &n));
    }
    CHECK(contains(message(), path));
    CHECK(contains(message(), "no /images"));
  }
  SECTION("rank 3") {
    path = dir.file("rank3.h5");
    write_raw_images<float>(path, {2, 4, 4}, std::vector<float>(32, 0.0f), H5::PredType::NATIVE_FLOAT);
    CHECK(contains(message(), path));
    CHECK(contains(message(), "must have rank 4 ([N, C, H, W]); found rank 3"));
  }
  SECTION("float64") {
    path = dir.file("double.h5");
    write_raw_images<double>(path, {2, 1, 4, 4}, std::vector<double>(32, 0.0), H5::PredType::NATIVE_DOUBLE);
    CHECK(contains(message(), path));
    CHECK(contains(message(), "must be float32; found float64"));
  }
  SECTION("a value of 1.5, and only the requested hyperslab is read") {
    path = dir.file("range.h5");
    std::vector<float> values(4 * 16, 0.5f);
    values[2 * 16 + 7] = 1.5f;
    values[3 * 16] = -1.25f;
    write_raw_images<float>(path, {4, 1, 4, 4}, values, H5::PredType::NATIVE_FLOAT);
    const std::string msg = message();
    CHECK(contains(msg, path));
    CHECK(contains(msg, "values must lie in [-1, 1]; found min -1.25, max 1.5; first offending image index 2"));
    CHECK(contains(message(3, 1), "first offending image index 3"));
    CHECK(read_dataset(path, 0, 2).images.size(0) == 2);  // images 2 and 3 are not read
  }
  SECTION("a NaN") {
    path = dir.file("nan.h5");
    std::vector<float> values(3 * 16, 0.0f);
    values[16 + 3] = std::numeric_limits<float>::quiet_NaN();
    write_raw_images<float>(path, {3, 1, 4, 4}, values, H5::PredType::NATIVE_FLOAT);
    CHECK(contains(message(), path));
    CHECK(contains(message(), "must be finite; image 1"));
  }
  SECTION("first and count out of range") {
    path = dir.file("small.h5");
    write_dataset(path, demo_dataset(5));
    for (auto [first, count] : {std::pair<int64_t, int64_t>{6, -1}, {-1, 2}, {3, 3}, {0, 6}}) {
      const std::string msg = message(first, count);
      CHECK(contains(msg, path));
      CHECK(contains(msg, "out of range; the dataset holds 5 images"));
    }
  }
  SECTION("labels of the wrong length") {
    path = dir.file("labels.h5");
    write_raw_images<float>(path, {2, 1, 2, 2}, std::vector<float>(8, 0.0f), H5::PredType::NATIVE_FLOAT);
    {
      H5::H5File file(path, H5F_ACC_RDWR);
      const hsize_t n = 3;
      file.createDataSet("labels", H5::PredType::STD_I64LE, H5::DataSpace(1, &n));
    }
    CHECK(contains(message(), "/labels must be a 1-D array with one label per image (2)"));
  }
}

TEST_CASE("datasets: load_dataset_source reads HDF5 paths and checks pad_to", "[datasets][source]") {
  TempDir dir;
  const std::string path = dir.file("src.h5");
  Dataset d = demo_dataset(6);
  d.images = demo_images(6, 1, 8, 8);
  write_dataset(path, d);

  const Dataset all = load_dataset_source(path);
  CHECK(all.images.size(0) == 6);
  const Dataset part = load_dataset_source(path, 8, 1, 2);
  CHECK(torch::equal(part.images, d.images.narrow(0, 1, 2)));
  const std::string msg = error_message([&] { load_dataset_source(path, 32); });
  CHECK(contains(msg, path));
  CHECK(contains(msg, "images are 8x8 but pad_to = 32"));
  const std::string unknown = error_message([&] { load_dataset_source("mnist:train"); });
  CHECK(contains(unknown, "'mnist:train' cannot be opened"));
  CHECK(contains(unknown, "fashion-mnist:train"));
}

TEST_CASE("datasets: import_fashion_mnist rejects a bad split or pad_to before reading", "[datasets][fashion-mnist]") {
  CHECK(contains(error_message([] { import_fashion_mnist("validation"); }), "unknown split 'validation'"));
  CHECK(contains(error_message([] { import_fashion_mnist("test", 20); }), "pad_to = 20"));
  CHECK(contains(error_message([] { load_dataset_source("fashion-mnist:val"); }), "unknown split 'val'"));
}

TEST_CASE("datasets: import_fashion_mnist names the file on a missing or malformed IDX file", "[datasets][fashion-mnist]") {
  TempDir dir;
  const std::string images = dir.file("t10k-images-idx3-ubyte.gz");
  const std::string labels = dir.file("t10k-labels-idx1-ubyte.gz");
  auto message = [&] { return error_message([&] { import_fashion_mnist("test", 0, dir.path.string()); }); };

  std::vector<uint8_t> good_images = idx_header(2051, {2, 28, 28});
  good_images.resize(good_images.size() + 2 * 28 * 28, 255);
  std::vector<uint8_t> good_labels = idx_header(2049, {2});
  good_labels.insert(good_labels.end(), {3, 9});

  SECTION("missing images file") {
    CHECK(contains(message(), images + ": cannot be opened"));
  }
  SECTION("bad magic number") {
    std::vector<uint8_t> bad = good_images;
    bad[3] = 0x01;  // 2049 instead of 2051
    write_gz(images, bad);
    CHECK(contains(message(), images + ": bad IDX magic number 2049 (expected 2051)"));
  }
  SECTION("size mismatch") {
    std::vector<uint8_t> bad = good_images;
    bad.resize(bad.size() - 10);
    write_gz(images, bad);
    CHECK(contains(message(), images + ": size mismatch"));
  }
  SECTION("truncated gzip stream") {
    write_gz(images, good_images);
    fs::resize_file(images, fs::file_size(images) - 12);
    CHECK(contains(message(), images + ": corrupt or truncated gzip data"));
  }
  SECTION("labels: missing, bad magic, out of range, wrong count") {
    write_gz(images, good_images);
    CHECK(contains(message(), labels + ": cannot be opened"));
    std::vector<uint8_t> bad = good_labels;
    bad[3] = 0x03;
    write_gz(labels, bad);
    CHECK(contains(message(), labels + ": bad IDX magic number 2051 (expected 2049)"));
    bad = good_labels;
    bad.back() = 10;
    write_gz(labels, bad);
    CHECK(contains(message(), labels + ": labels must lie in 0..9"));
    bad = idx_header(2049, {3});
    bad.insert(bad.end(), {1, 2, 3});
    write_gz(labels, bad);
    CHECK(contains(message(), labels + ": holds 3 labels but " + images + " holds 2 images"));
  }
  SECTION("a well-formed pair imports") {
    write_gz(images, good_images);
    write_gz(labels, good_labels);
    const Dataset d = import_fashion_mnist("test", 0, dir.path.string());
    CHECK(d.images.sizes() == torch::IntArrayRef({2, 1, 28, 28}));
    CHECK(d.images.min().item<float>() == 1.0f);
    CHECK(torch::equal(d.labels, torch::tensor({3, 9}, torch::kLong)));
  }
}

TEST_CASE("datasets: fashion-mnist test split: 10000 balanced 1x28x28 images in [-1, 1]", "[datasets][fashion-mnist]") {
  if (!have_fashion_mnist()) return;
  const Dataset d = import_fashion_mnist("test");
  CHECK(d.images.sizes() == torch::IntArrayRef({10000, 1, 28, 28}));
  CHECK(d.images.scalar_type() == torch::kFloat);
  CHECK(d.labels.scalar_type() == torch::kLong);
  CHECK(d.labels.min().item<int64_t>() == 0);
  CHECK(d.labels.max().item<int64_t>() == 9);
  CHECK(torch::equal(torch::bincount(d.labels), torch::full({10}, 1000, torch::kLong)));
  CHECK(d.images.min().item<float>() >= -1.0f);
  CHECK(d.images.max().item<float>() <= 1.0f);
  CHECK(d.images.min().item<float>() == -1.0f);  // pixel 0
  CHECK(d.images.max().item<float>() == 1.0f);   // pixel 255
  CHECK(d.attributes.source == "Fashion-MNIST (Zalando Research), Debian package dataset-fashion-mnist");
  CHECK(d.attributes.license == "MIT");
  CHECK(d.attributes.split == "test");
  // Every value is p / 127.5 - 1 for an integer p.
  const torch::Tensor p = (d.images + 1) * 127.5;
  CHECK(torch::allclose(p, p.round(), 0.0, 1e-3));
}

TEST_CASE("datasets: fashion-mnist pad_to = 32 centers the image in a -1 border", "[datasets][fashion-mnist]") {
  if (!have_fashion_mnist()) return;
  const Dataset plain = import_fashion_mnist("test");
  const Dataset padded = import_fashion_mnist("test", 32);
  REQUIRE(padded.images.sizes() == torch::IntArrayRef({10000, 1, 32, 32}));
  using torch::indexing::Slice;
  CHECK(torch::equal(padded.images.index({Slice(), Slice(), Slice(2, 30), Slice(2, 30)}), plain.images));
  torch::Tensor border = torch::ones({32, 32}, torch::kBool);
  border.index_put_({Slice(2, 30), Slice(2, 30)}, false);
  CHECK((padded.images.index({Slice(), 0}).masked_select(border) == -1.0f).all().item<bool>());
  CHECK(torch::equal(import_fashion_mnist("test", 28).images, plain.images));
}

TEST_CASE("datasets: fashion-mnist through load_dataset_source: slicing and HDF5 round trip", "[datasets][fashion-mnist]") {
  if (!have_fashion_mnist()) return;
  const Dataset all = import_fashion_mnist("test", 32);
  const Dataset part = load_dataset_source("fashion-mnist:test", 32, 100, 50);
  CHECK(torch::equal(part.images, all.images.narrow(0, 100, 50)));
  CHECK(torch::equal(part.labels, all.labels.narrow(0, 100, 50)));
  CHECK(part.origin == "fashion-mnist:test");
  CHECK(contains(error_message([] { load_dataset_source("fashion-mnist:test", 0, 9990, 20); }), "out of range"));

  TempDir dir;
  const std::string path = dir.file("fmnist.h5");
  write_dataset(path, part);
  const Dataset back = load_dataset_source(path, 32);
  CHECK(torch::equal(back.images, part.images));
  CHECK(torch::equal(back.labels, part.labels));
  CHECK(back.attributes.license == "MIT");
}

TEST_CASE("datasets: fashion-mnist train split: 60000 balanced images", "[datasets][fashion-mnist]") {
  if (!have_fashion_mnist()) return;
  const Dataset d = import_fashion_mnist("train", 32);
  CHECK(d.images.sizes() == torch::IntArrayRef({60000, 1, 32, 32}));
  CHECK(torch::equal(torch::bincount(d.labels), torch::full({10}, 6000, torch::kLong)));
}

// ---------------------------------------------------------------------------------------------
// PNG decoding and the PNG folder importer

namespace {

void put32(std::string& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out += static_cast<char>((v >> s) & 0xff);
}

void chunk(std::string& out, const std::string& type, const std::string& data) {
  put32(out, static_cast<uint32_t>(data.size()));
  const std::string body = type + data;
  out += body;
  put32(out, static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(body.data()),
                                         static_cast<uInt>(body.size()))));
}

// A PNG written independently of the library's encoder: `rows` are the unfiltered scanline bytes; row
// y uses filter type y % 5 (None, Sub, Up, Average, Paeth), computed here from the PNG spec.
std::string handmade_png(uint32_t w, uint32_t h, int depth, int color, const std::vector<std::vector<uint8_t>>& rows,
                         size_t bpp, const std::string& plte = "", int interlace = 0) {
  std::string raw;
  for (size_t y = 0; y < rows.size(); ++y) {
    const int f = static_cast<int>(y % 5);
    raw += static_cast<char>(f);
    for (size_t x = 0; x < rows[y].size(); ++x) {
      const int a = x >= bpp ? rows[y][x - bpp] : 0, b = y ? rows[y - 1][x] : 0,
                c = (y && x >= bpp) ? rows[y - 1][x - bpp] : 0;
      const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
      const int pred = f == 0 ? 0 : f == 1 ? a : f == 2 ? b : f == 3 ? (a + b) / 2 : (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      raw += static_cast<char>((rows[y][x] - pred) & 0xff);
    }
  }
  uLongf len = compressBound(raw.size());
  std::string z(len, '\0');
  compress2(reinterpret_cast<Bytef*>(&z[0]), &len, reinterpret_cast<const Bytef*>(raw.data()), raw.size(), 9);
  z.resize(len);
  std::string png("\x89PNG\r\n\x1a\n", 8), ihdr;
  put32(ihdr, w);
  put32(ihdr, h);
  ihdr += static_cast<char>(depth);
  ihdr += static_cast<char>(color);
  ihdr += std::string(2, '\0');
  ihdr += static_cast<char>(interlace);
  chunk(png, "IHDR", ihdr);
  if (!plte.empty()) chunk(png, "PLTE", plte);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", "");
  return png;
}

}  // namespace

TEST_CASE("datasets: decode_png undoes every filter and reads each color type and bit depth", "[datasets][png]") {
  // RGBA 8-bit, 5 rows (all five filters): alpha dropped.
  std::vector<std::vector<uint8_t>> rows;
  torch::Tensor rgb = torch::empty({5, 4, 3}, torch::kByte);
  for (int y = 0; y < 5; ++y) {
    rows.emplace_back();
    for (int x = 0; x < 4; ++x)
      for (int k = 0; k < 4; ++k) {
        const uint8_t v = static_cast<uint8_t>((37 * y + 91 * x + 53 * k + y * x * k) % 256);
        rows.back().push_back(v);
        if (k < 3) rgb[y][x][k] = v;
      }
  }
  CHECK(torch::equal(decode_png(handmade_png(4, 5, 8, 6, rows, 4), "rgba"), rgb));
  // Gray 16-bit: the high byte of each sample.
  rows.clear();
  torch::Tensor gray = torch::empty({5, 3}, torch::kByte);
  for (int y = 0; y < 5; ++y) {
    rows.emplace_back();
    for (int x = 0; x < 3; ++x) {
      const uint16_t v = static_cast<uint16_t>(4099 * y + 13001 * x + 7);
      rows.back().push_back(v >> 8);
      rows.back().push_back(v & 0xff);
      gray[y][x] = static_cast<uint8_t>(v >> 8);
    }
  }
  CHECK(torch::equal(decode_png(handmade_png(3, 5, 16, 0, rows, 2), "gray16"), gray));
  // 2-bit palette, one row of 5 pixels packed into 2 bytes: indices 0 1 2 3 1.
  const std::string plte("\x00\x00\x00\xff\x00\x00\x00\xff\x00\x00\x00\xff", 12);
  const torch::Tensor pal = decode_png(handmade_png(5, 1, 2, 3, {{0x1b, 0x40}}, 1, plte), "palette");
  REQUIRE(pal.sizes() == torch::IntArrayRef({1, 5, 3}));
  CHECK(pal[0][3][2].item<int>() == 255);
  CHECK(pal[0][4][0].item<int>() == 255);
  CHECK(pal[0][0].sum().item<int>() == 0);
  // 1-bit gray scales to 0 / 255.
  const torch::Tensor bits = decode_png(handmade_png(3, 1, 1, 0, {{0xa0}}, 1), "1bit");
  CHECK(torch::equal(bits, torch::tensor({{255, 0, 255}}, torch::kByte)));
  // The library's own encoder round-trips through the decoder.
  const torch::Tensor img = (torch::arange(6 * 7 * 3) * 7).remainder(256).to(torch::kByte).reshape({6, 7, 3});
  CHECK(torch::equal(decode_png(png_bytes(img), "ours"), img));
  CHECK(torch::equal(decode_png(png_bytes(img.select(2, 1).contiguous()), "ours"), img.select(2, 1)));
}

TEST_CASE("datasets: decode_png refuses broken and unsupported files, naming them", "[datasets][png][errors]") {
  const std::string good = handmade_png(2, 2, 8, 0, {{1, 2}, {3, 4}}, 1);
  CHECK_THAT(error_message([&] { decode_png("GIF89a....", "x.png"); }), Catch::Contains("x.png: not a PNG"));
  std::string bad_crc = good;
  bad_crc[bad_crc.size() - 20] ^= 0x55;
  CHECK_THAT(error_message([&] { decode_png(bad_crc, "c.png"); }), Catch::Contains("c.png") && Catch::Contains("CRC"));
  CHECK_THAT(error_message([&] { decode_png(good.substr(0, 30), "t.png"); }), Catch::Contains("truncated"));
  CHECK_THAT(error_message([&] { decode_png(handmade_png(2, 2, 8, 0, {{1, 2}, {3, 4}}, 1, "", 1), "i.png"); }),
             Catch::Contains("interlaced"));
  CHECK_THAT(error_message([] { read_png("/nonexistent/n.png"); }), Catch::Contains("n.png: cannot be opened"));
}

TEST_CASE("datasets: decode_png checks the declared size before allocating", "[datasets][png][errors]") {
  // A file of ~60 bytes declaring 65536 x 65536 pixels (34 GB as 16-bit RGBA) is refused by its header.
  const std::string huge = handmade_png(65536, 65536, 16, 6, {}, 8);
  CHECK(huge.size() < 100);
  CHECK_THAT(error_message([&] { decode_png(huge, "huge.png"); }),
             Catch::Contains("huge.png") && Catch::Contains("65536x65536") && Catch::Contains("1 to 65535 per side"));
  // Within the side limit but beyond 2^28 bytes of image data: 20000 x 20000 8-bit RGB = 1.2 GB.
  CHECK_THAT(error_message([&] { decode_png(handmade_png(20000, 20000, 8, 2, {}, 3), "big.png"); }),
             Catch::Contains("big.png") && Catch::Contains("1200020000 bytes") && Catch::Contains("limit is 268435456"));
  // Within both limits, but far more pixels than the compressed data can hold: refused as truncated.
  CHECK_THAT(error_message([&] { decode_png(handmade_png(8000, 8000, 8, 0, {}, 1), "lie.png"); }),
             Catch::Contains("lie.png") && Catch::Contains("truncated or corrupt"));
  // The largest side is still fine when the data is there.
  const torch::Tensor wide = decode_png(handmade_png(65535, 1, 8, 0, {std::vector<uint8_t>(65535, 7)}, 1), "wide");
  CHECK(wide.size(0) == 1);
  CHECK(wide.size(1) == 65535);
}

TEST_CASE("datasets: import_png_folder reads flat folders and class subfolders", "[datasets][png]") {
  TempDir dir;
  const fs::path flat = dir.path / "flat";
  fs::create_directories(flat);
  const torch::Tensor a = torch::full({4, 4}, 0, torch::kByte), b = torch::full({4, 4}, 255, torch::kByte);
  write_png((flat / "b.png").string(), b);
  write_png((flat / "a.png").string(), a);
  std::ofstream(flat / "notes.txt") << "ignored";
  Dataset d = import_png_folder(flat.string());
  REQUIRE(d.images.sizes() == torch::IntArrayRef({2, 1, 4, 4}));
  CHECK(d.images[0].max().item<float>() == -1.0f);  // sorted by name: a first
  CHECK(d.images[1].min().item<float>() == 1.0f);
  CHECK_FALSE(d.labels.defined());
  // Class subfolders: labels by sorted folder name; one RGB image makes the set RGB.
  const fs::path classes = dir.path / "classes";
  fs::create_directories(classes / "cat");
  fs::create_directories(classes / "ant");
  write_png((classes / "cat" / "1.png").string(), a);
  write_png((classes / "ant" / "1.png").string(), torch::full({4, 4, 3}, 51, torch::kByte));
  write_png((classes / "ant" / "2.png").string(), b);
  d = import_png_folder(classes.string());
  REQUIRE(d.images.sizes() == torch::IntArrayRef({3, 3, 4, 4}));
  CHECK(torch::equal(d.labels, torch::tensor({0, 0, 1}, torch::kLong)));
  CHECK_THAT(d.images[0][0][0][0].item<float>(), Catch::Matchers::WithinAbs(51 / 127.5 - 1, 1e-6));
  CHECK_THAT(d.attributes.source, Catch::Contains("0 = ant") && Catch::Contains("1 = cat"));
  // channels = 1: BT.601 luma of RGB; resize: area averaging to 2x2.
  d = import_png_folder(classes.string(), 1, 2);
  REQUIRE(d.images.sizes() == torch::IntArrayRef({3, 1, 2, 2}));
  CHECK_THAT(d.images[0][0][0][0].item<float>(), Catch::Matchers::WithinAbs(51 / 127.5 - 1, 1e-5));
  // Errors: mismatched sizes (without --resize), no PNG, bad options.
  write_png((flat / "c.png").string(), torch::zeros({5, 4}, torch::kByte));
  CHECK_THAT(error_message([&] { import_png_folder(flat.string()); }),
             Catch::Contains("c.png: 5x4 pixels") && Catch::Contains("--resize"));
  CHECK(import_png_folder(flat.string(), 0, 4).images.size(0) == 3);
  fs::create_directories(dir.path / "empty");
  CHECK_THAT(error_message([&] { import_png_folder((dir.path / "empty").string()); }), Catch::Contains("no .png"));
  CHECK_THAT(error_message([&] { import_png_folder(flat.string(), 2); }), Catch::Contains("channels = 2"));
  CHECK_THAT(error_message([&] { import_png_folder((dir.path / "none").string()); }), Catch::Contains("not a folder"));
}
