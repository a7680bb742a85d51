#pragma once
// "Did you mean" for misspelled config keys, section labels and component names.
#include <string>
#include <vector>

namespace ipbench {

/// Optimal string alignment distance (Levenshtein with adjacent transpositions), case-sensitive.
size_t edit_distance(const std::string& a, const std::string& b);

/// The candidate closest to `word` when it is close enough to be a likely misspelling (distance <= 1
/// for words up to 4 characters, <= 2 up to 8, <= 3 beyond; ties go to the first candidate), else "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

/// " (did you mean 'x'?)" for closest_match's x, or "" when there is none.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace ipbench
