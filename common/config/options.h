// Options: one table of settings per binary, each settable four ways.
//
// Precedence, lowest to highest: the built-in default, `--config FILE` (YAML mapping of option
// names), the environment variable WARDEN_<NAME> (upper case, '-' as '_'), and the command-line
// flag --<name> VALUE (or --<name>=VALUE; a bare --<flag> sets a bool to true). Every value is
// checked when parsed, so a bad setting is reported once, up front, naming the option and where it
// came from.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/util/status.h"

namespace warden::config {

enum class OptionType {
  kString,
  kInt,       // a signed integer
  kBool,      // true/false, yes/no, on/off, 1/0
  kDuration,  // a number with unit: 250ms, 10s, 5m, 1h
  kBytes,     // a number with optional unit: 512, 64KiB, 4MiB, 1GiB, 10MB
};

class Options {
 public:
  Options(std::string program, std::string summary);

  // Declares an option. `default_value` is text in the option's syntax ("" for no default).
  void Add(std::string name, OptionType type, std::string default_value, std::string help);

  // Parses as described above. `environment` is a null-terminated array like `environ`. Returns
  // InvalidArgument naming the option and its source for an unknown flag, a missing flag value, a
  // value of the wrong type, an unreadable or malformed config file, or an unknown config key.
  Status Parse(int argc, const char* const* argv, const char* const* environment);

  bool help_requested() const { return help_requested_; }
  // Usage text: every option with its type, default, environment variable and help.
  std::string HelpText() const;
  // Arguments that are not options, in order (e.g. wardenctl's subcommand and its operands).
  const std::vector<std::string>& positional() const { return positional_; }

  // REQUIRES: `name` was declared with the matching type and Parse() succeeded.
  const std::string& GetString(const std::string& name) const;
  int64_t GetInt(const std::string& name) const;
  bool GetBool(const std::string& name) const;
  std::chrono::milliseconds GetDuration(const std::string& name) const;
  uint64_t GetBytes(const std::string& name) const;
  // Whether the option was set by a file, the environment or a flag (not just defaulted).
  bool IsSet(const std::string& name) const;

 private:
  struct Spec {
    OptionType type;
    std::string default_value;
    std::string help;
    std::string value;
    bool set = false;
  };
  Status Assign(const std::string& name, const std::string& value, const std::string& source);
  Status LoadFile(const std::string& path);

  std::string program_;
  std::string summary_;
  std::vector<std::string> order_;
  std::map<std::string, Spec> specs_;
  std::vector<std::string> positional_;
  bool help_requested_ = false;
};

// Parsers shared with other config readers; each returns InvalidArgument describing the syntax.
Result<std::chrono::milliseconds> ParseDuration(const std::string& text);
Result<uint64_t> ParseBytes(const std::string& text);
Result<bool> ParseBool(const std::string& text);

// The environment variable for an option: WARDEN_ + upper case, '-' as '_'.
std::string EnvironmentName(const std::string& option);

}  // namespace warden::config
