#pragma once
// The gallery report of a run (`ipbench couple gallery DIR`): every gallery metric (metrics/gallery.h)
// per cell with its intervals across groups and items, and the design comparisons at equal K
// (stats/gallery.h), as Markdown tables.
#include <string>
#include <vector>

#include "core/record.h"
#include "stats/summary.h"

namespace ipbench {

/// `gallery_metrics`: the metrics to report (those absent from the records are skipped). Error when none
/// is present.
std::string gallery_markdown(const std::vector<Record>& records, const std::vector<std::string>& gallery_metrics,
                             const SummaryOptions& options);

}  // namespace ipbench
