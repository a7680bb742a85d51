#pragma once
// The reconstruction store of a run ([benchmark] save_reconstructions = true) and the pair-correlation
// diagnostic computed from it (`ipbench correlate`, the "correlations" block of summary.json).
//
// Layout: DIR/reconstructions/<operator>/<solver>/<design>/item<I>_s<first>.h5, one file per solved
// batch, in the HDF5 dataset format of docs/formats.md: /images [B, C, H, W] float32, clamped to
// [-1, 1] (what every metric compares; a non-finite sample is stored as zeros and its record's
// status says it failed), /labels [B] int64 = the sample index s = group * K + member within
// (cell, item). Each file is written atomically, so a killed run leaves whole batches only, and
// --resume rewrites the batches it solves again.
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/record.h"
#include "stats/correlation.h"

namespace ipbench {

/// Writes one batch: x [B, C, H, W] are samples first_sample .. first_sample + B - 1 of (cell, item).
void write_reconstruction_batch(const std::string& run_dir, const Record& cell, int64_t item, int64_t first_sample,
                                const torch::Tensor& x);

/// True when DIR/reconstructions exists.
bool has_reconstructions(const std::string& run_dir);

/// Pair correlations (stats/correlation.h) of every cell of `records` whose reconstructions are stored,
/// in record order. A sample is used when its record's status is "ok"; items are pooled per cell.
/// Throws Error naming the file when a stored batch is unreadable, or when a stored sample index has no
/// record or its cell's image shapes disagree.
std::vector<CellCorrelation> correlate_run(const std::string& run_dir, const std::vector<Record>& records,
                                           double confidence);

}  // namespace ipbench
