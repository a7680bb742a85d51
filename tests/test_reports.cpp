// Tests for reports/: the leaderboard renderings (Markdown, CSV, JSON, HTML), base64, write_summary and
// the pair correlations of stored reconstructions.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/rng.h"
#include "datasets/dataset.h"
#include "harness/run_folder.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "error_message.h"
#include "reports/format.h"
#include "reports/leaderboard_files.h"
#include "reports/leaderboard_report.h"
#include "reports/run_summary.h"
#include "reports/summary_report.h"
#include "stats/leaderboard.h"
#include "stats/summary.h"
#include "synthetic_run.h"
#include "temp_dir.h"

using namespace ipbench;

namespace {

std::vector<Record> records_of(const std::string& solver, double offset) {
  std::vector<Record> out;
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t g = 0; g < 4; ++g) {
      Record r;
      r.op = "inpaint";
      r.solver = solver;
      r.design = "iid";
      r.cell = "inpaint/" + solver + "/iid";
      r.item = i;
      r.group = g;
      r.metrics["psnr"] = 20 + offset + 0.1 * g + i;
      r.metrics["l1"] = 0.1 - 0.01 * offset + 0.001 * g;
      r.nfe = 50;
      out.push_back(r);
    }
  return out;
}

}  // namespace

TEST_CASE("reports: base64 matches RFC 4648's test vectors", "[reports]") {
  CHECK(base64("") == "");
  CHECK(base64("f") == "Zg==");
  CHECK(base64("fo") == "Zm8=");
  CHECK(base64("foo") == "Zm9v");
  CHECK(base64("foob") == "Zm9vYg==");
  CHECK(base64("fooba") == "Zm9vYmE=");
  CHECK(base64("foobar") == "Zm9vYmFy");
  CHECK(base64(std::string("\xff\x00\x10", 3)) == "/wAQ");
}

TEST_CASE("reports: the leaderboard renders ranks, intervals and standings in every format", "[reports]") {
  std::vector<Record> records = records_of("dps", 0);
  for (const Record& r : records_of("a<b", 1)) records.push_back(r);  // a label that needs escaping
  SummaryOptions so;
  so.lower_better = {{"psnr", false}, {"l1", true}};
  const BenchmarkSummary summary = summarize(records, so);
  const Leaderboard board = build_leaderboard({{"run1", summary}}, "psnr", false);
  ReportInfo info;
  info.runs = {"runs/run1"};
  info.context = "ipbench test";

  const std::string md = leaderboard_markdown(board, info);
  CHECK_THAT(md, Catch::Contains("## inpaint") && Catch::Contains("| 1 | a<b | iid |") &&
                     Catch::Contains("| 2 | dps | iid |") && Catch::Contains("behind") &&
                     Catch::Contains("(paired)") && Catch::Contains("higher is better"));

  const std::string csv = leaderboard_csv(board);
  CHECK(csv.rfind("operator,rank,solver,design,run,standing,vs_leader,", 0) == 0);
  CHECK_THAT(csv, Catch::Contains("inpaint,1,a<b,iid,run1,leader,") && Catch::Contains("inpaint,2,dps,iid,run1,behind,-1,"));

  const std::string json = leaderboard_json(board, info);
  CHECK_THAT(json, Catch::Contains("\"format\": \"ipbench-leaderboard/1\"") &&
                       Catch::Contains("\"standing\": \"leader\"") && Catch::Contains("\"paired\": true"));

  const std::vector<ReportImage> images{{"inpaint", "1. a<b / iid", std::string("\x89PNG", 4)}};
  const std::string html = leaderboard_html(board, info, images);
  CHECK(html.rfind("<!doctype html>", 0) == 0);
  CHECK_THAT(html, Catch::Contains("<svg") && Catch::Contains("a&lt;b") && Catch::Contains("<table>") &&
                       Catch::Contains("data:image/png;base64," + base64(std::string("\x89PNG", 4))) &&
                       Catch::Contains("ipbench test"));
  CHECK_THAT(html, !Catch::Contains("a<b"));  // escaped everywhere
}

TEST_CASE("reports: an RE resting on one outlying group is marked in the table, explained and in the JSON",
          "[reports][efficiency]") {
  // iid: 20 samples per item; repulsive-like K = 4: 5 groups per item, one far-out group in item 1.
  KeyedGenerator gen(11);
  std::vector<Record> records;
  auto add = [&](const std::string& design, int64_t k, int64_t item, int64_t group, double value) {
    for (int64_t m = 0; m < k; ++m) {
      Record r;
      r.op = "inpaint";
      r.solver = "dps";
      r.design = design;
      r.cell = "inpaint/dps/" + design;
      r.group_size = k;
      r.item = item;
      r.group = group;
      r.member = m;
      r.metrics["residual"] = value + 0.002 * (m % 2 == 0 ? 1.0 : -1.0);
      r.nfe = 100;
      records.push_back(r);
    }
  };
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t g = 0; g < 20; ++g) add("iid", 1, i, g, 0.045 + 0.0006 * gen.normal());
    for (int64_t g = 0; g < 5; ++g) add("repulsive", 4, i, g, 0.045 + 0.0001 * gen.normal() + (i == 1 && g == 4 ? 0.006 : 0.0));
  }
  const BenchmarkSummary summary = summarize(records, SummaryOptions{});
  const MetricSummary* m = nullptr;
  for (const CellSummary& c : summary.cells)
    if (c.design == "repulsive") m = &c.metrics.at(0);
  REQUIRE(m != nullptr);
  INFO("RE " << m->efficiency_vs_baseline.value << ", single-group factor " << m->efficiency_single_group_factor);
  CHECK(m->efficiency_fragile);
  const std::string table = summary_table(summary);
  CHECK_THAT(table, Catch::Contains(" !"));
  CHECK_THAT(table, Catch::Contains("!: leaving out one group changes this RE by more than 2x"));
  const std::string json = summary_json(summary, RunInfo{});
  CHECK_THAT(json, Catch::Contains("\"fragile\": true"));
  CHECK_THAT(json, Catch::Contains("\"single_group_factor\": "));
}

TEST_CASE("reports: the leaderboard as a LaTeX booktabs table", "[reports]") {
  std::vector<Record> records = records_of("cm_dps", 1);
  for (const Record& r : records_of("dps", 0)) records.push_back(r);
  SummaryOptions so;
  so.lower_better = {{"psnr", false}, {"l1", true}};
  const Leaderboard board = build_leaderboard({{"run1", summarize(records, so)}}, "psnr", false);
  ReportInfo info;
  info.runs = {"runs/run1"};
  info.context = "ipbench test";
  const std::string tex = leaderboard_latex(board, info);
  CHECK_THAT(tex, Catch::Contains("\\toprule") && Catch::Contains("\\midrule") && Catch::Contains("\\bottomrule") &&
                      Catch::Contains("\\begin{tabular}{llrrr}") && Catch::Contains("psnr $\\uparrow$ & l1 & NFE"));
  // cm_dps leads (bold), its name escaped; dps is significantly behind (a star); minus signs in math.
  CHECK_THAT(tex, Catch::Contains("cm\\_dps & iid & \\textbf{21.65 [") && Catch::Contains("]$^{*}$") &&
                      Catch::Contains("\\caption{inpaint:"));
  CHECK_THAT(tex, !Catch::Contains("cm_dps"));
  // Every table is balanced.
  size_t begins = 0, ends = 0;
  for (size_t at = 0; (at = tex.find("\\begin{table}", at)) != std::string::npos; ++at) ++begins;
  for (size_t at = 0; (at = tex.find("\\end{table}", at)) != std::string::npos; ++at) ++ends;
  CHECK(begins == 1);
  CHECK(ends == 1);
}

TEST_CASE("reports: the HTML plots have rounded ticks, an axis label, a leader line and an efficiency chart", "[reports]") {
  std::vector<Record> records = records_of("dps", 0);
  for (const Record& r : records_of("dds", 0.5)) records.push_back(r);
  for (Record r : records_of("dps", 0.2)) {  // an antithetic design: K = 2 pairs
    r.design = "antithetic";
    r.cell = "inpaint/dps/antithetic";
    r.group_size = 2;
    r.member = r.group % 2;
    r.group /= 2;
    records.push_back(r);
  }
  SummaryOptions so;
  so.lower_better = {{"psnr", false}, {"l1", true}};
  const Leaderboard board = build_leaderboard({{"run1", summarize(records, so)}}, "psnr", false);
  ReportInfo info;
  info.runs = {"runs/run1"};
  const std::string html = leaderboard_html(board, info, {});
  CHECK_THAT(html, Catch::Contains("psnr: mean and 95% interval given the items (higher is better)"));
  CHECK_THAT(html, Catch::Contains("stroke-dasharray=\"4 3\"><title>leader's mean</title>"));
  CHECK_THAT(html, Catch::Contains("Relative efficiency of the designs") && Catch::Contains("log scale"));
  // Tick labels are round numbers: every <text ...>label</text> of the axes parses and has at most 2 decimals.
  size_t ticks = 0;
  for (size_t at = 0; (at = html.find("text-anchor=\"middle\">", at)) != std::string::npos; ++at) {
    const size_t b = at + 21, e = html.find('<', b);
    const std::string label = html.substr(b, e - b);
    if (label.empty() || !(std::isdigit(static_cast<unsigned char>(label[0])) || label[0] == '-')) continue;
    ++ticks;
    const auto dot = label.find('.');
    CHECK((dot == std::string::npos || label.size() - dot - 1 <= 2));
  }
  CHECK(ticks >= 4);
}

namespace {

namespace fs = std::filesystem;

std::string synthetic_dataset(const fs::path& dir) { return testing::write_synthetic_dataset(dir); }

RunOutcome run_config(const std::string& ini, const fs::path& out) { return testing::run_config_text(ini, out); }

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("reports: stored reconstructions give exact PN correlations for a linear sampler", "[reports][correlation]") {
  // Zero-mean Gaussian prior, no clamping: the DDPM sampler is linear in its noise, so an antithetic pair
  // is exactly (x, -x) and both of its correlations are -1; the stored files hold every sample.
  testing::TempDir tmp;
  const auto data = synthetic_dataset(tmp.path);
  const std::string cfg =
      "[benchmark]\nname = t\nitems = 2\nsamples_per_item = 8\nbatch_size = 4\noperators = inpaint\nsolvers = ddpm\n"
      "designs = iid, antithetic\nmetrics = pixel_mean, centroid\ndevice = cpu\nsave_reconstructions = true\n"
      "[dataset]\nsource = " + data + "\npad_to = 0\n[prior]\ntype = gaussian\nmean = 0\nvariance = 0.1\n"
      "[operator.inpaint]\n[solver.ddpm]\nsteps = 5\nclip_denoised = false\n";
  const auto dir = tmp.path / "run";
  const auto out = run_config(cfg, dir);
  const RunFolder folder = RunFolder::open(dir.string());
  REQUIRE(folder.has_reconstructions());
  CHECK(fs::exists(dir / "reconstructions" / "inpaint" / "ddpm" / "antithetic" / "item1_s4.h5"));
  const auto corr = correlate_run(folder, out.records, 0.95);
  REQUIRE(corr.size() == 2);
  CHECK(corr[0].design == "iid");
  CHECK(corr[0].pairs_kind == "independent");
  CHECK(corr[0].pairs == 8);  // 2 items x 4 consecutive pairs
  CHECK(corr[1].design == "antithetic");
  CHECK(corr[1].pairs == 8);  // 2 items x 4 groups
  CHECK_THAT(corr[1].standard.mean, Catch::Matchers::WithinAbs(-1.0, 1e-5));
  CHECK_THAT(corr[1].centralized.mean, Catch::Matchers::WithinAbs(-1.0, 1e-5));
  CHECK(corr[0].standard.mean > -0.9);
  // write_summary puts them into summary.json.
  const SummaryOutcome s = write_summary(folder);
  CHECK(s.summary.correlations.size() == 2);
  CHECK_THAT(read_file(dir / "summary.json"), Catch::Contains("\"correlations\""));
}

TEST_CASE("reports: write_summary counts statuses, says when a run is incomplete, refuses no records",
          "[reports][summary]") {
  testing::TempDir tmp;
  const auto data = synthetic_dataset(tmp.path);
  const std::string cfg =
      "[benchmark]\nname = t\nitems = 2\nsamples_per_item = 4\noperators = inpaint\nsolvers = dps\n"
      "designs = iid, antithetic\nmetrics = l1, psnr\ndevice = cpu\n"
      "[dataset]\nsource = " + data + "\npad_to = 0\n[prior]\ntype = gaussian\nmean = 0\nvariance = 0.3\n"
      "[operator.inpaint]\n[solver.dps]\nsteps = 4\nzeta = 0.5\n";
  const auto dir = tmp.path / "run";
  run_config(cfg, dir);
  SummaryOutcome s = write_summary(RunFolder::open(dir.string()));
  CHECK(s.info.records == 16);
  CHECK(s.info.expected_records == 16);
  CHECK(s.info.incomplete().empty());
  CHECK(s.info.statuses.at("ok") == 16);
  // Statistics come out of the records: the antithetic cell has an efficiency against iid.
  REQUIRE(s.summary.cells.size() == 2);
  for (const auto& m : s.summary.cells[1].metrics) CHECK(std::isfinite(m.efficiency_vs_baseline.value));
  std::string json = read_file(dir / "summary.json");
  CHECK_THAT(json, Catch::Contains("\"complete\": true") && Catch::Contains("\"statuses\": {\"ok\": 16}"));
  // Drop the last 5 records: incomplete, said in the outcome, summary.json and summary.md.
  {
    std::ifstream in(dir / "records.csv");
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    std::ofstream out(dir / "records.csv");
    for (size_t i = 0; i + 5 < lines.size(); ++i) out << lines[i] << "\n";
  }
  s = write_summary(RunFolder::open(dir.string()));
  CHECK(s.info.incomplete() == "incomplete: 11 of 16 samples");
  CHECK_THAT(read_file(dir / "summary.json"),
             Catch::Contains("\"complete\": false") && Catch::Contains("\"incomplete\": \"incomplete: 11 of 16 samples\""));
  CHECK_THAT(read_file(dir / "summary.md"), Catch::Contains("incomplete: 11 of 16 samples"));
  // A header-only records.csv is refused.
  {
    std::ifstream in(dir / "records.csv");
    std::string header;
    std::getline(in, header);
    in.close();
    std::ofstream(dir / "records.csv") << header << "\n";
  }
  CHECK_THROWS_WITH(write_summary(RunFolder::open(dir.string())), Catch::Contains("holds no records"));
}

namespace {

// A small run of the Gaussian prior with stored reconstructions: inpaint (mask probability `mask`), dps
// and dds, iid and antithetic, 2 items x 4 samples.
std::string board_config(const std::string& data, const std::string& mask, int64_t items = 2) {
  return "[benchmark]\nname = b\nitems = " + std::to_string(items) +
         "\nsamples_per_item = 4\noperators = inpaint\nsolvers = dps, dds\ndesigns = iid, antithetic\n"
         "metrics = l1, psnr\ndevice = cpu\nthreads = 1\nsave_reconstructions = true\n[dataset]\nsource = " + data +
         "\npad_to = 0\n[prior]\ntype = gaussian\nvariance = 0.3\n[operator.inpaint]\nmask_prob_min = " + mask +
         "\nmask_prob_max = 0.7\n[solver.dps]\nsteps = 3\n[solver.dds]\nsteps = 3\n";
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = 0; (at = text.find(what, at)) != std::string::npos; at += what.size()) ++n;
  return n;
}

}  // namespace

TEST_CASE("reports: runs of different problems get separate boards, or are refused with --strict",
          "[reports][boards]") {
  testing::TempDir tmp;
  const std::string data = testing::write_synthetic_dataset(tmp.path);
  testing::run_config_text(board_config(data, "0.3"), tmp.path / "a");
  testing::run_config_text(board_config(data, "0.3"), tmp.path / "same");  // the same problem
  testing::run_config_text(board_config(data, "0.5", 3), tmp.path / "b");  // another mask, another item count
  const std::string a = (tmp.path / "a").string(), same = (tmp.path / "same").string(), b = (tmp.path / "b").string();
  ReportOptions o;
  o.images_per_cell = 0;
  // One problem: one board, all eight entries on it.
  write_report({a, same}, (tmp.path / "r1").string(), o);
  const std::string md1 = slurp(tmp.path / "r1" / "leaderboard.md");
  CHECK(count_of(md1, "\n## ") == 1);
  CHECK_THAT(md1, Catch::Contains("\n## inpaint\n"));
  // Two problems: two boards titled with their runs and problem, the second naming the differing keys.
  write_report({a, same, b}, (tmp.path / "r2").string(), o);
  const std::string md2 = slurp(tmp.path / "r2" / "leaderboard.md");
  CHECK(count_of(md2, "\n## ") == 2);
  CHECK_THAT(md2, Catch::Contains("## inpaint \u2014 " + a + ", " + same + " (" + data + ", 2 items, gaussian)"));
  CHECK_THAT(md2, Catch::Contains("## inpaint \u2014 " + b + " (" + data + ", 3 items, gaussian)"));
  CHECK_THAT(md2, Catch::Contains("[operator.inpaint] mask_prob_min = 0.5 (0.3 in " + a + ")") &&
                      Catch::Contains("[benchmark] items = 3 (2 in " + a + ")"));
  // Every entry of b is ranked on its own board: rank 1 to 4.
  const std::string json = slurp(tmp.path / "r2" / "leaderboard.json");
  CHECK(count_of(json, "\"rank\": 1,") == 2);
  CHECK(count_of(json, "\"board\": \"inpaint \u2014 " + b) == 1);
  // --strict refuses, naming each differing key with both values.
  o.strict = true;
  CHECK_NOTHROW(write_report({a, same}, (tmp.path / "r3").string(), o));
  const std::string msg = testing::error_message([&] { write_report({a, b}, (tmp.path / "r4").string(), o); });
  CHECK_THAT(msg, Catch::Contains("--strict") && Catch::Contains("'inpaint'") &&
                      Catch::Contains("[operator.inpaint] mask_prob_min: 0.3 (" + a + ") vs 0.5 (" + b + ")") &&
                      Catch::Contains("[benchmark] items: 2 (" + a + ") vs 3 (" + b + ")"));
}

TEST_CASE("reports: the HTML page shows the run context, item panels with per-pixel maps and PN/RR histograms",
          "[reports][panels]") {
  testing::TempDir tmp;
  const std::string data = testing::write_synthetic_dataset(tmp.path);
  testing::run_config_text(board_config(data, "0.3"), tmp.path / "a");
  write_summary(RunFolder::open((tmp.path / "a").string()));
  ReportOptions o;
  o.items = {0, 1, 7};
  write_report({(tmp.path / "a").string()}, (tmp.path / "r").string(), o);
  const std::string html = slurp(tmp.path / "r" / "leaderboard.html");
  // Context block: prior, dataset, samples, designs, run id, the run's recorded context line; solver options.
  CHECK_THAT(html, Catch::Contains("<section id=\"run-context\">") && Catch::Contains("type = gaussian, ") &&
                       Catch::Contains("samples per item</th><td class=\"l\">4<") &&
                       Catch::Contains("iid, antithetic") &&
                       Catch::Contains(RunFolder::open((tmp.path / "a").string()).run_id()) &&
                       Catch::Contains("run context (git revision") && Catch::Contains("steps = 3"));
  CHECK_THAT(html, !Catch::Contains("(no summary.json)"));
  // Item panels: items 0 and 1 for each of the 4 cells (7 is not in the run: said so).
  CHECK(count_of(html, "<figure class=\"item\">") == 8);
  CHECK_THAT(html, Catch::Contains("item(s) 7 not in the run (its items are 0-1)"));
  CHECK_THAT(html, Catch::Contains("item 1: ground truth, measurement y, a coupled pair (samples 0 and 1 of group 0)") &&
                       Catch::Contains("two independent samples (0 and 1)") &&
                       Catch::Contains("per-pixel mean and std of 4 samples") && Catch::Contains("|mean - truth|"));
  CHECK(count_of(html, "<figure class=\"measurement\">") == 2);
  // PN (antithetic) and RR (iid) histograms, one per cell.
  CHECK(count_of(html, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"corr\"") == 4);
  CHECK_THAT(html, Catch::Contains("PN pairs (coupled)") && Catch::Contains("RR pairs (independent)"));
  CHECK_THAT(html, !Catch::Contains("https://") && !Catch::Contains("src=\"http"));  // self-contained

  // Without stored reconstructions the page says so and shows no panels or histograms.
  std::string cfg = board_config(data, "0.3");
  cfg.replace(cfg.find("save_reconstructions = true"), 27, "save_reconstructions = false");
  testing::run_config_text(cfg, tmp.path / "plain");
  write_report({(tmp.path / "plain").string()}, (tmp.path / "r2").string(), ReportOptions{});
  const std::string plain = slurp(tmp.path / "r2" / "leaderboard.html");
  CHECK_THAT(plain, Catch::Contains("no reconstructions stored"));
  CHECK(count_of(plain, "<figure class=\"item\">") == 0);
  CHECK(count_of(plain, "class=\"corr\"") == 0);
  CHECK_THAT(plain, Catch::Contains("(no summary.json)"));
}
