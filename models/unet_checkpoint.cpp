// The model folder of a trained UNet (see unet_checkpoint.h).
#include "models/unet_checkpoint.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/options.h"
#include "models/prior_util.h"

namespace ipbench {

namespace fs = std::filesystem;

void DiffusionOptions::validate() const {
  const char* o = "DiffusionOptions";
  check_option(prediction == "eps", o, "prediction", prediction, "prediction = eps");
  vp.validate(o);
}

namespace {
// Config::from_string cuts comments at ';' and '#', splits at the first '=' and trims: text that
// would not read back unchanged is refused rather than silently altered.
void check_ini_entry(const std::string& section, const std::string& key, const std::string& value) {
  require(!key.empty() && key.find_first_of("=;#[]\r\n") == std::string::npos && trim(key) == key,
          "model.ini: cannot write key '", key, "' in [", section,
          "]: keys must be non-empty without '=', ';', '#', brackets, line breaks or surrounding spaces");
  require(value.find_first_of(";#\r\n") == std::string::npos && trim(value) == value, "model.ini: cannot write [",
          section, "] ", key, " = '", value, "': values may not contain ';', '#', line breaks or surrounding spaces");
}

// A provenance value on one line: INI values end at a newline and comments start at ';' or '#'.
std::string provenance_value(std::string v) {
  for (char& c : v)
    if (c == '\n' || c == '\r' || c == ';' || c == '#') c = ' ';
  return trim(v);
}

void write_section(std::ostream& os, const IniSection& s) {
  os << "[" << s.name << "]\n";
  for (const auto& [key, value] : s.entries) {
    check_ini_entry(s.name, key, value);
    os << key << " = " << value << "\n";
  }
}

// name -> tensor for every tensor of a torch::save archive (nested modules joined with '.').
void collect_tensors(torch::serialize::InputArchive& archive, const std::string& prefix,
                     std::map<std::string, torch::Tensor>& out) {
  for (const std::string& key : archive.keys()) {
    torch::Tensor tensor;
    torch::serialize::InputArchive child;
    if (archive.try_read(key, tensor)) {
      out[prefix + key] = tensor;
    } else if (archive.try_read(key, child)) {
      collect_tensors(child, prefix + key + ".", out);
    }
  }
}

std::map<std::string, torch::Tensor> read_weights(const std::string& pt) {
  std::map<std::string, torch::Tensor> stored;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(pt, torch::Device(torch::kCPU));
    collect_tensors(archive, "", stored);
  } catch (const c10::Error& e) {
    throw Error(str_cat("cannot read UNet weights '", pt, "' (corrupt or not written by torch::save): ",
                        exception_message(e)));
  }
  return stored;
}

// Every difference between the stored tensors and the model's parameters and buffers (names, shapes).
std::vector<std::string> weight_mismatches(const std::map<std::string, torch::Tensor>& stored,
                                           const torch::OrderedDict<std::string, torch::Tensor>& params) {
  std::vector<std::string> problems;
  for (const auto& p : params) {
    const auto it = stored.find(p.key());
    if (it == stored.end()) {
      problems.push_back(str_cat(p.key(), " is missing from the file"));
    } else if (it->second.sizes() != p.value().sizes()) {
      problems.push_back(str_cat(p.key(), " is ", shape_str(it->second.sizes()), " in the file but ",
                                 shape_str(p.value().sizes()), " in the architecture"));
    }
  }
  for (const auto& [name, tensor] : stored) {
    if (!params.contains(name)) problems.push_back(str_cat(name, " is in the file but not in the architecture"));
  }
  return problems;
}

}  // namespace

// torch::load would accept tensors of the wrong shape (Tensor::set_ adopts them) and ignore extra
// ones, so every name and shape is compared before anything is copied.
void load_unet_weights(UNet& model, const std::string& weights_path, const std::string& architecture_source) {
  TORCH_CHECK(!model.is_empty(), "load_unet_weights: empty UNet");
  const std::map<std::string, torch::Tensor> stored = read_weights(weights_path);
  auto params = model->named_parameters();
  for (const auto& b : model->named_buffers()) params.insert(b.key(), b.value());
  const std::vector<std::string> problems = weight_mismatches(stored, params);
  if (!problems.empty()) {
    std::string list;
    for (size_t i = 0; i < problems.size() && i < 3; ++i) list += (i ? "; " : "") + problems[i];
    if (problems.size() > 3) list += str_cat("; and ", problems.size() - 3, " more");
    throw Error(str_cat("UNet weights '", weights_path, "' do not match the architecture in '", architecture_source,
                        "' (", list, ")"));
  }
  torch::NoGradGuard no_grad;
  for (auto& p : params) p.value().copy_(stored.at(p.key()));
}

void save_unet_checkpoint(const std::string& dir, UNet model, const DiffusionOptions& diffusion,
                          const std::map<std::string, std::string>& training) {
  TORCH_CHECK(!model.is_empty(), "save_unet_checkpoint: empty UNet");
  diffusion.validate();
  save_model_folder(dir, model, "", {options_section("diffusion", diffusion)}, training);
}

void save_model_folder(const std::string& dir, UNet net, const std::string& comment,
                       const std::vector<IniSection>& sections, const std::map<std::string, std::string>& training) {
  TORCH_CHECK(!net.is_empty(), "save_model_folder: empty UNet");
  std::ostringstream ini;
  if (!comment.empty()) ini << "; " << comment << "\n\n";
  write_section(ini, options_section("unet", net->options()));
  for (const auto& s : sections) {
    ini << "\n";
    write_section(ini, s);
  }
  IniSection provenance{"training", {}};
  for (const auto& [key, value] : training) provenance.entries.emplace_back(key, provenance_value(value));
  ini << "\n";
  write_section(ini, provenance);
  std::error_code ec;
  fs::create_directories(dir, ec);
  require(!ec && fs::is_directory(dir), "cannot create the model folder '", dir, "'", ec ? ": " + ec.message() : "");
  const fs::path folder(dir);
  write_file_atomic((folder / "model.pt").string(), [&](const std::string& tmp) { torch::save(net, tmp); },
                    "UNet weights");
  // model.ini last: a folder with a model.ini is complete.
  write_file_atomic((folder / "model.ini").string(), ini.str(), "model description");
}

UNetCheckpoint load_unet_checkpoint(const std::string& dir, torch::Device device) {
  require(!dir.empty(), "UNet model folder: no path given");
  require(fs::is_directory(dir), "UNet model folder '", dir, "' does not exist or is not a folder");
  const fs::path folder(dir);
  const std::string ini = (folder / "model.ini").string(), pt = (folder / "model.pt").string();
  require(fs::is_regular_file(ini), "UNet model folder '", dir, "': missing '", ini, "'");
  require(fs::is_regular_file(pt), "UNet model folder '", dir, "': missing '", pt, "'");
  const Config config = Config::from_file(ini);
  require(config.has_section("unet") && config.has_section("diffusion"), "'", ini,
          "' must have the sections [unet] and [diffusion]");
  UNetCheckpoint c;
  c.unet = read_options<UNetOptions>(config.section("unet"));
  c.diffusion = read_options<DiffusionOptions>(config.section("diffusion"));
  const Section& training = config.section("training");
  for (const auto& entry : training.entries()) training.read(entry.first, c.training[entry.first]);
  config.check_all_used();
  c.model = UNet(c.unet);
  load_unet_weights(c.model, pt, ini);
  c.model->to(device);
  c.model->eval();
  return c;
}

}  // namespace ipbench
