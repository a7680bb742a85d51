// The HDF5 dataset format: validated reads of a hyperslab, atomic writes, dataset sources.
#include "datasets/dataset.h"

#include <H5Cpp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"

namespace ipbench {
namespace {

constexpr const char* kImages = "images";
constexpr const char* kLabels = "labels";
const char* const kFashionPrefix = "fashion-mnist:";

// "float64", "int32", "uint8", "string", ... for messages about a wrong dtype.
std::string describe_type(const H5::DataSet& ds) {
  const H5T_class_t cls = ds.getTypeClass();
  const size_t bits = ds.getDataType().getSize() * 8;
  switch (cls) {
    case H5T_FLOAT: return str_cat("float", bits);
    case H5T_INTEGER: return str_cat(ds.getIntType().getSign() == H5T_SGN_NONE ? "uint" : "int", bits);
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    default: return str_cat("HDF5 type class ", static_cast<int>(cls), " (", bits, " bits)");
  }
}

std::vector<hsize_t> extent(const H5::DataSet& ds) {
  H5::DataSpace space = ds.getSpace();
  std::vector<hsize_t> dims(static_cast<size_t>(std::max(space.getSimpleExtentNdims(), 0)));
  if (!dims.empty()) space.getSimpleExtentDims(dims.data());
  return dims;
}

// Reads rows [first, first + count) along dimension 0 of `ds` into `out` (already shaped).
void read_rows(const H5::DataSet& ds, const H5::PredType& mem_type, int64_t first, torch::Tensor& out) {
  if (out.numel() == 0) return;  // HDF5 rejects empty selections
  std::vector<hsize_t> dims = extent(ds);
  std::vector<hsize_t> start(dims.size(), 0);
  std::vector<hsize_t> count = dims;
  start[0] = static_cast<hsize_t>(first);
  count[0] = static_cast<hsize_t>(out.size(0));
  H5::DataSpace file_space = ds.getSpace();
  file_space.selectHyperslab(H5S_SELECT_SET, count.data(), start.data());
  H5::DataSpace mem_space(static_cast<int>(count.size()), count.data());
  ds.read(out.data_ptr(), mem_type, mem_space, file_space);
}

int64_t first_flagged(const torch::Tensor& per_image) { return per_image.nonzero()[0][0].item<int64_t>(); }

// Throws unless every value is finite and in [-1, 1]; `offset` turns batch rows into file indices.
void check_image_values(const torch::Tensor& images, int64_t offset, const std::string& where) {
  if (images.numel() == 0) return;
  const torch::Tensor flat = images.reshape({images.size(0), -1});
  const torch::Tensor non_finite = torch::logical_not(torch::isfinite(flat)).any(1);
  if (non_finite.any().item<bool>())
    throw Error(str_cat(where, ": /images must be finite; image ", offset + first_flagged(non_finite),
                        " holds a NaN or infinite value"));
  const float lo = flat.min().item<float>();
  const float hi = flat.max().item<float>();
  if (lo < -1.0f || hi > 1.0f) {
    const torch::Tensor outside = torch::logical_or(flat < -1.0f, flat > 1.0f).any(1);
    throw Error(str_cat(where, ": /images values must lie in [-1, 1]; found min ", lo, ", max ", hi,
                        "; first offending image index ", offset + first_flagged(outside)));
  }
}

std::string read_string_attribute(const H5::Group& root, const char* name, const std::string& path) {
  if (!root.attrExists(name)) return "";
  H5::Attribute attr = root.openAttribute(name);
  require(attr.getTypeClass() == H5T_STRING, path, ": root attribute '", name, "' must be a string");
  std::string value;
  attr.read(attr.getStrType(), value);  // handles both fixed- and variable-length strings
  return value;
}

// Reads and validates /images rows [first, first + count); `n_images` receives the file's N.
torch::Tensor read_images(const H5::H5File& file, const std::string& path, int64_t first, int64_t count,
                          int64_t& n_images) {
  require(file.nameExists(kImages), path, ": no /images dataset (expected float32 [N, C, H, W])");
  H5::DataSet ds = file.openDataSet(kImages);
  const std::vector<hsize_t> dims = extent(ds);
  require(dims.size() == 4, path, ": /images must have rank 4 ([N, C, H, W]); found rank ", dims.size());
  require(ds.getTypeClass() == H5T_FLOAT && ds.getDataType().getSize() == 4, path,
          ": /images must be float32; found ", describe_type(ds));
  n_images = static_cast<int64_t>(dims[0]);
  count = resolve_item_range(n_images, first, count, path);
  torch::Tensor images = torch::empty({count, static_cast<int64_t>(dims[1]), static_cast<int64_t>(dims[2]),
                                       static_cast<int64_t>(dims[3])}, torch::kFloat);
  read_rows(ds, H5::PredType::NATIVE_FLOAT, first, images);
  check_image_values(images, first, path);
  return images;
}

torch::Tensor read_labels(const H5::H5File& file, const std::string& path, int64_t n_images, int64_t first,
                          int64_t count) {
  if (!file.nameExists(kLabels)) return {};
  H5::DataSet ds = file.openDataSet(kLabels);
  const std::vector<hsize_t> dims = extent(ds);
  require(dims.size() == 1 && static_cast<int64_t>(dims[0]) == n_images, path,
          ": /labels must be a 1-D array with one label per image (", n_images, ")");
  require(ds.getTypeClass() == H5T_INTEGER, path, ": /labels must be integers (int64); found ", describe_type(ds));
  torch::Tensor labels = torch::empty({count}, torch::kLong);
  read_rows(ds, H5::PredType::NATIVE_INT64, first, labels);
  return labels;
}

Dataset read_hdf5(const std::string& path, int64_t first, int64_t count) {
  require(H5::H5File::isHdf5(path), path, ": not an HDF5 file (bad signature; corrupt or another format)");
  H5::H5File file(path, H5F_ACC_RDONLY);
  Dataset d;
  int64_t n_images = 0;
  d.images = read_images(file, path, first, count, n_images);
  d.labels = read_labels(file, path, n_images, first, d.images.size(0));
  const H5::Group root = file.openGroup("/");
  d.attributes = {read_string_attribute(root, "source", path), read_string_attribute(root, "license", path),
                  read_string_attribute(root, "split", path)};
  d.origin = path;
  return d;
}

// The images and labels as they will be stored; throws when the file would not read back.
std::pair<torch::Tensor, torch::Tensor> storable(const Dataset& d, const std::string& path) {
  const std::string where = str_cat(path, " (writing)");
  require(d.images.defined() && d.images.dim() == 4, where, ": images must be a [N, C, H, W] tensor");
  require(d.images.size(0) >= 1 && d.images.numel() > 0, where, ": images must hold at least one non-empty image");
  torch::Tensor images = d.images.detach().to(torch::kCPU, torch::kFloat).contiguous();
  check_image_values(images, 0, where);
  torch::Tensor labels;
  if (d.labels.defined()) {
    require(d.labels.dim() == 1 && d.labels.size(0) == images.size(0), where,
            ": labels must be a 1-D tensor with one label per image (", images.size(0), ")");
    require(torch::isIntegralType(d.labels.scalar_type(), /*includeBool=*/false), where, ": labels must be integers");
    labels = d.labels.detach().to(torch::kCPU, torch::kLong).contiguous();
  }
  return {images, labels};
}

void write_string_attribute(H5::Group& root, const char* name, const std::string& value) {
  const H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  H5::Attribute attr = root.createAttribute(name, type, H5::DataSpace(H5S_SCALAR));
  attr.write(type, value);
}

void write_images(H5::H5File& file, const torch::Tensor& images) {
  const hsize_t dims[4] = {static_cast<hsize_t>(images.size(0)), static_cast<hsize_t>(images.size(1)),
                           static_cast<hsize_t>(images.size(2)), static_cast<hsize_t>(images.size(3))};
  // A few images per chunk (about 256 KiB at most): small images are not stored one per chunk, which
  // would make chunk bookkeeping dominate, and a hyperslab read still touches few extra images.
  const int64_t image_bytes = images[0].numel() * 4;
  const int64_t per_chunk = std::clamp<int64_t>((256 << 10) / image_bytes, 1, std::min<int64_t>(16, images.size(0)));
  const hsize_t chunk[4] = {static_cast<hsize_t>(per_chunk), dims[1], dims[2], dims[3]};
  H5::DSetCreatPropList props;
  props.setChunk(4, chunk);
  props.setDeflate(4);
  H5::DataSet ds = file.createDataSet(kImages, H5::PredType::IEEE_F32LE, H5::DataSpace(4, dims), props);
  ds.write(images.data_ptr<float>(), H5::PredType::NATIVE_FLOAT);
}

void write_hdf5(const std::string& file_path, const torch::Tensor& images, const torch::Tensor& labels,
                const DatasetAttributes& attributes) {
  H5::H5File file(file_path, H5F_ACC_TRUNC);
  write_images(file, images);
  if (labels.defined()) {
    const hsize_t n = static_cast<hsize_t>(labels.size(0));
    H5::DataSet ds = file.createDataSet(kLabels, H5::PredType::STD_I64LE, H5::DataSpace(1, &n));
    ds.write(labels.data_ptr<int64_t>(), H5::PredType::NATIVE_INT64);
  }
  H5::Group root = file.openGroup("/");
  write_string_attribute(root, "source", attributes.source);
  write_string_attribute(root, "license", attributes.license);
  write_string_attribute(root, "split", attributes.split);
}

}  // namespace

int64_t resolve_item_range(int64_t n, int64_t first, int64_t count, const std::string& what) {
  require(first >= 0 && first <= n, what, ": first = ", first, " is out of range; the dataset holds ", n,
          " images (valid: 0 <= first <= ", n, ")");
  if (count < 0) return n - first;
  require(count <= n - first, what, ": first + count = ", first, " + ", count, " = ", first + count,
          " is out of range; the dataset holds ", n, " images (valid: first + count <= ", n, ")");
  return count;
}

Dataset read_dataset(const std::string& path, int64_t first, int64_t count) {
  H5::Exception::dontPrint();  // our Error carries the message; HDF5's stack dump would only confuse
  std::error_code ec;
  require(std::filesystem::is_regular_file(path, ec) && access(path.c_str(), R_OK) == 0, path,
          ": dataset file cannot be opened (missing, unreadable or not a regular file)");
  try {
    return read_hdf5(path, first, count);
  } catch (const H5::Exception& e) {
    throw Error(str_cat(path, ": corrupt or truncated HDF5 file, cannot be read (", e.getDetailMsg(), ")"));
  }
}

void write_dataset(const std::string& path, const Dataset& dataset) {
  H5::Exception::dontPrint();
  const auto [images, labels] = storable(dataset, path);
  write_file_atomic(
      path,
      [&](const std::string& tmp) {
        try {
          write_hdf5(tmp, images, labels, dataset.attributes);  // the file is closed when this returns
        } catch (const H5::Exception& e) {
          throw Error(e.getDetailMsg());
        }
      },
      "dataset");
}

Dataset load_dataset_source(const std::string& source, int64_t pad_to, int64_t first, int64_t count) {
  const std::string prefix = kFashionPrefix;
  if (source.compare(0, prefix.size(), prefix) == 0) {
    Dataset d = import_fashion_mnist(source.substr(prefix.size()), pad_to);
    const int64_t n = d.images.size(0);
    count = resolve_item_range(n, first, count, source);
    if (first != 0 || count != n) {  // clone so the full import's memory is released
      d.images = d.images.narrow(0, first, count).clone();
      d.labels = d.labels.narrow(0, first, count).clone();
    }
    d.origin = source;
    return d;
  }
  std::error_code ec;
  require(std::filesystem::exists(source, ec), "dataset source '", source,
          "' cannot be opened: no such file, and not a built-in source (fashion-mnist:train, fashion-mnist:test)");
  Dataset d = read_dataset(source, first, count);
  const int64_t h = d.images.size(2), w = d.images.size(3);
  require(pad_to == 0 || (h == pad_to && w == pad_to), source, ": images are ", h, "x", w, " but pad_to = ",
          pad_to, " was requested; pad_to only pads imported sources and must equal an HDF5 file's image size "
          "(or be 0)");
  return d;
}

}  // namespace ipbench
