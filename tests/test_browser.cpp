// The HTML report in a real browser: a small run is reported with the ipbench executable, and the page
// is rendered by headless Chromium (Debian's `chromium`, installed by scripts/setup.sh). The test checks
// the DOM after load (tables, SVG plots, every image decoded, no script or console errors) and that a
// screenshot of the page is not blank. Without Chromium it prints why and checks nothing (a skip).
//
// The page is rendered twice: once as written (the screenshot), once with a probe script injected at
// the top of <head> that records errors and, after load, writes what it found into a <pre> element that
// `--dump-dom` then prints.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "core/rng.h"
#include "datasets/dataset.h"
#include "datasets/png.h"
#include "temp_dir.h"

namespace fs = std::filesystem;
using namespace ipbench;
using testing::TempDir;

namespace {

struct Outcome {
  int code;
  std::string output;
};

Outcome shell(const std::string& cmd) {
  FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// IPBENCH_CHROMIUM, else the first of Debian's names found on the PATH; empty when there is none.
std::string find_chromium() {
  if (const char* env = std::getenv("IPBENCH_CHROMIUM")) return env;
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    auto r = shell(std::string("command -v ") + name);
    if (r.code == 0 && !r.output.empty()) return r.output.substr(0, r.output.find('\n'));
  }
  return "";
}

// Flags of a headless Chromium that needs no network, no GPU and no profile (the machine's network is
// closed: without the background-networking flags Chromium keeps trying to reach Google's hosts).
std::string chromium_command(const std::string& chromium, const fs::path& profile) {
  return chromium + " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                    " --disable-background-networking --disable-component-update --disable-sync"
                    " --disable-extensions --hide-scrollbars --user-data-dir=" + profile.string() +
         " --virtual-time-budget=5000 --window-size=1280,1600";
}

constexpr const char* kProbe = R"(<script>
window.__ipbench_errors = [];
window.addEventListener('error', function (e) { __ipbench_errors.push('error: ' + (e.message || e.type)); }, true);
(function () {
  var original = console.error;
  console.error = function () { __ipbench_errors.push('console: ' + Array.prototype.join.call(arguments, ' ')); original.apply(console, arguments); };
})();
window.addEventListener('load', function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).length;
  var pre = document.createElement('pre');
  pre.id = 'ipbench-probe';
  pre.textContent = 'tables=' + document.querySelectorAll('table').length +
      ' svgs=' + document.querySelectorAll('svg').length +
      ' images=' + images.length + ' broken=' + broken +
      ' context=' + document.querySelectorAll('#run-context table').length +
      ' corr=' + document.querySelectorAll('svg.corr rect').length +
      ' corrplots=' + document.querySelectorAll('svg.corr').length +
      ' items=' + document.querySelectorAll('figure.item img').length +
      ' itemwidth=' + Math.min.apply(null, Array.prototype.map.call(document.querySelectorAll('figure.item img'), function (i) { return i.naturalWidth; }).concat([0 + 1e9])) +
      ' errors=' + __ipbench_errors.length + ' [' + __ipbench_errors.join(' | ') + ']';
  document.body.appendChild(pre);
});
</script>)";

// The integer after `key=` in the probe's line, or -1.
long probe_value(const std::string& probe, const std::string& key) {
  const auto at = probe.find(key + "=");
  if (at == std::string::npos) return -1;
  return std::strtol(probe.c_str() + at + key.size() + 1, nullptr, 10);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("browser: the HTML report renders in headless Chromium", "[browser]") {
  const std::string chromium = find_chromium();
  if (chromium.empty()) {
    WARN("skipped: no Chromium found (install Debian's `chromium`, or set IPBENCH_CHROMIUM)");
    std::cout << "test_browser: SKIPPED: no Chromium on this machine" << std::endl;
    return;
  }
  TempDir tmp;
  Dataset d;
  d.images = (0.5 * torch::tanh(keyed_normal({2, 1, 8, 8}, 11))).to(torch::kFloat);
  const auto data = (tmp.path / "d.h5").string();
  write_dataset(data, d);
  const auto cfg = tmp.write(
      "browser.ini",
      "[benchmark]\nname = browser\nitems = 2\nsamples_per_item = 4\noperators = inpaint, superres\n"
      "solvers = dps, dds\ndesigns = iid, antithetic\ndevice = cpu\nsave_reconstructions = true\n"
      "[dataset]\nsource = " + data + "\npad_to = 0\n[prior]\ntype = gaussian\nvariance = 0.3\n"
      "[operator.inpaint]\n[operator.superres]\nfactor = 2\n[solver.dps]\nsteps = 4\n[solver.dds]\nsteps = 4\n");
  const auto run = tmp.path / "run";
  auto r = shell(std::string(IPBENCH_BINARY) + " run --quiet --config " + cfg + " --out " + run.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto report = tmp.path / "report";
  r = shell(std::string(IPBENCH_BINARY) + " report " + run.string() + " --out " + report.string() + " --items 0,1");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto page = report / "leaderboard.html";
  REQUIRE(fs::exists(page));

  // The DOM after load, from a copy of the page with the probe first in <head>.
  std::string html = read_file(page);
  const auto head = html.find("<head>");
  REQUIRE(head != std::string::npos);
  html.insert(head + 6, kProbe);
  const auto probed = tmp.write("probed.html", html);
  const auto base = chromium_command(chromium, tmp.path / "profile");
  r = shell(base + " --dump-dom file://" + probed);
  const auto at = r.output.find("id=\"ipbench-probe\">");
  INFO(r.output.substr(0, 2000));
  REQUIRE(at != std::string::npos);
  const std::string probe = r.output.substr(at, r.output.find("</pre>", at) - at);
  INFO("probe: " << probe);
  CHECK(probe_value(probe, "tables") >= 2);  // one board per operator
  CHECK(probe_value(probe, "svgs") >= 2);    // one interval plot per operator
  CHECK(probe_value(probe, "images") >= 2);
  CHECK(probe_value(probe, "broken") == 0);
  CHECK(probe_value(probe, "errors") == 0);
  // The run context block (facts and solver options), a PN/RR histogram per cell (2 operators x 4 cells)
  // with bars, and the item panels (2 items x 8 cells), each 7 tiles of 8 px wide decoded.
  CHECK(probe_value(probe, "context") == 2);
  CHECK(probe_value(probe, "corrplots") == 8);
  CHECK(probe_value(probe, "corr") >= 8);
  CHECK(probe_value(probe, "items") == 16);
  CHECK(probe_value(probe, "itemwidth") >= 7 * 8);

  // A screenshot of the page as written: decoded, it must not be one flat colour.
  const auto shot = tmp.path / "screenshot.png";
  r = shell("cd " + tmp.path.string() + " && " + base + " --screenshot=" + shot.string() + " file://" + page.string());
  INFO(r.output);
  REQUIRE(fs::exists(shot));
  const auto pixels = read_png(shot.string()).to(torch::kDouble) / 255.0;  // [H, W] or [H, W, 3]
  INFO("screenshot " << pixels.sizes());
  CHECK(pixels.size(1) == 1280);
  CHECK(pixels.std().item<double>() > 0.05);
  // The fraction of pixels far from the page background (the top-left pixel): text, plots and images.
  const auto rgb = pixels.dim() == 2 ? pixels.unsqueeze(-1) : pixels;
  const auto background = rgb[0][0];
  const double inked = ((rgb - background).abs().amax(-1) > 0.1).to(torch::kDouble).mean().item<double>();
  CHECK(inked > 0.01);
  if (const char* keep = std::getenv("IPBENCH_SCREENSHOT_OUT")) fs::copy_file(shot, keep, fs::copy_options::overwrite_existing);
}
