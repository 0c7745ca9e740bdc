// Policy sources and load errors: the text that goes into a PolicySet and what comes back when it
// does not compile.
#pragma once

#include <string>
#include <vector>

namespace warden::policy {

// One policy file: where it came from (used only in error messages and explanations) and its
// text, YAML or JSON (JSON is read as the YAML subset it is). A file may hold several YAML
// documents separated by `---`.
struct SourceDocument {
  std::string path;
  std::string text;
};

// One problem found while loading: 1-based line and column of the offending node (0 when the
// problem concerns the whole file or the whole set).
struct LoadError {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;

  // "file:line:column: message"
  std::string ToString() const;
};

// All errors, one per line, in the order they were found.
std::string FormatLoadErrors(const std::vector<LoadError>& errors);

}  // namespace warden::policy
