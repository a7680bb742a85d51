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
    CHECK(contains(error_message([&] { write_dataset(nowhere, demo_dataset(2)); }), "cannot be written"));
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
