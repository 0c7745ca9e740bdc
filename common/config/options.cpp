#include "common/config/options.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

#include <yaml-cpp/yaml.h>

namespace warden::config {
namespace {

const char* TypeName(OptionType type) {
  switch (type) {
    case OptionType::kString: return "string";
    case OptionType::kInt: return "int";
    case OptionType::kBool: return "bool";
    case OptionType::kDuration: return "duration";
    case OptionType::kBytes: return "bytes";
  }
  return "string";
}

Result<int64_t> ParseInt(const std::string& text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Status::InvalidArgument("'" + text + "' is not an integer");
  }
  return value;
}

// Splits "250ms" into 250 and "ms"; the number may be fractional ("1.5s").
bool SplitNumber(const std::string& text, double& number, std::string& unit) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return false;
  try {
    number = std::stod(text.substr(0, i));
  } catch (...) {
    return false;
  }
  unit = text.substr(i);
  return true;
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  double number = 0;
  std::string unit;
  if (SplitNumber(text, number, unit)) {
    double factor = 0;
    if (unit == "ms") factor = 1;
    else if (unit == "s") factor = 1000;
    else if (unit == "m") factor = 60'000;
    else if (unit == "h") factor = 3'600'000;
    if (factor > 0) return std::chrono::milliseconds(static_cast<int64_t>(number * factor));
  }
  return Status::InvalidArgument("'" + text + "' is not a duration (use e.g. 250ms, 10s, 5m, 1h)");
}

Result<uint64_t> ParseBytes(const std::string& text) {
  double number = 0;
  std::string unit;
  if (SplitNumber(text, number, unit)) {
    std::string lower = unit;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    double factor = 0;
    if (lower.empty() || lower == "b") factor = 1;
    else if (lower == "kib" || lower == "k") factor = 1024.0;
    else if (lower == "mib" || lower == "m") factor = 1024.0 * 1024;
    else if (lower == "gib" || lower == "g") factor = 1024.0 * 1024 * 1024;
    else if (lower == "kb") factor = 1e3;
    else if (lower == "mb") factor = 1e6;
    else if (lower == "gb") factor = 1e9;
    if (factor > 0) return static_cast<uint64_t>(number * factor);
  }
  return Status::InvalidArgument("'" + text + "' is not a size (use e.g. 512, 64KiB, 4MiB, 1GiB)");
}

Result<bool> ParseBool(const std::string& text) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") return true;
  if (lower == "false" || lower == "no" || lower == "off" || lower == "0") return false;
  return Status::InvalidArgument("'" + text + "' is not a boolean (use true or false)");
}

std::string EnvironmentName(const std::string& option) {
  std::string name = "WARDEN_";
  for (char c : option) name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

Options::Options(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {
  Add("config", OptionType::kString, "", "YAML file of option: value settings");
}

void Options::Add(std::string name, OptionType type, std::string default_value, std::string help) {
  order_.push_back(name);
  specs_[name] = Spec{type, default_value, std::move(help), default_value, false};
}

Status Options::Assign(const std::string& name, const std::string& value, const std::string& source) {
  auto it = specs_.find(name);
  if (it == specs_.end()) {
    return Status::InvalidArgument("unknown option '" + name + "' (from " + source + "); see --help");
  }
  Status checked;
  switch (it->second.type) {
    case OptionType::kString: break;
    case OptionType::kInt: checked = ParseInt(value).status(); break;
    case OptionType::kBool: checked = ParseBool(value).status(); break;
    case OptionType::kDuration: checked = ParseDuration(value).status(); break;
    case OptionType::kBytes: checked = ParseBytes(value).status(); break;
  }
  if (!checked.ok()) {
    return Status::InvalidArgument("option '" + name + "' (from " + source + "): " + checked.message());
  }
  it->second.value = value;
  it->second.set = true;
  return Status::Ok();
}

Status Options::LoadFile(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Status::InvalidArgument("cannot read config file '" + path + "'");
  } catch (const YAML::Exception& error) {
    return Status::InvalidArgument("config file '" + path + "' line " + std::to_string(error.mark.line + 1) +
                                   ", column " + std::to_string(error.mark.column + 1) + ": " + error.msg);
  }
  if (root.IsNull()) return Status::Ok();
  if (!root.IsMap()) return Status::InvalidArgument("config file '" + path + "' must be a mapping of option: value");
  for (const auto& entry : root) {
    std::string key = entry.first.as<std::string>();
    std::replace(key.begin(), key.end(), '_', '-');
    std::string source = path + " line " + std::to_string(entry.first.Mark().line + 1);
    if (!entry.second.IsScalar()) {
      return Status::InvalidArgument("option '" + key + "' (from " + source + ") must be a single value");
    }
    if (key == "config") return Status::InvalidArgument("a config file cannot name another config file (" + source + ")");
    WARDEN_RETURN_IF_ERROR(Assign(key, entry.second.Scalar(), source));
  }
  return Status::Ok();
}

Status Options::Parse(int argc, const char* const* argv, const char* const* environment) {
  // Flags first into a list, so the config file they name is read before they are applied.
  std::vector<std::pair<std::string, std::string>> flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help_requested_ = true;
      continue;
    }
    if (arg == "--") {
      for (++i; i < argc; ++i) positional_.emplace_back(argv[i]);
      break;
    }
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    auto eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else {
      auto it = specs_.find(name);
      if (it == specs_.end()) return Status::InvalidArgument("unknown flag --" + name + "; see --help");
      if (it->second.type == OptionType::kBool) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return Status::InvalidArgument("flag --" + name + " needs a value");
      }
    }
    flags.emplace_back(name, value);
  }
  if (help_requested_) return Status::Ok();

  std::string config_file;
  for (auto& [name, value] : flags) {
    if (name == "config") config_file = value;
  }
  if (config_file.empty() && environment != nullptr) {
    std::string key = EnvironmentName("config") + "=";
    for (const char* const* e = environment; *e != nullptr; ++e) {
      if (std::strncmp(*e, key.c_str(), key.size()) == 0) config_file = *e + key.size();
    }
  }
  if (!config_file.empty()) {
    WARDEN_RETURN_IF_ERROR(LoadFile(config_file));
    specs_["config"].value = config_file;
    specs_["config"].set = true;
  }
  if (environment != nullptr) {
    for (const auto& name : order_) {
      if (name == "config") continue;
      std::string key = EnvironmentName(name) + "=";
      for (const char* const* e = environment; *e != nullptr; ++e) {
        if (std::strncmp(*e, key.c_str(), key.size()) == 0) {
          WARDEN_RETURN_IF_ERROR(Assign(name, *e + key.size(), "environment " + EnvironmentName(name)));
        }
      }
    }
  }
  for (auto& [name, value] : flags) {
    WARDEN_RETURN_IF_ERROR(Assign(name, value, "flag --" + name));
  }
  return Status::Ok();
}

std::string Options::HelpText() const {
  std::string text = "usage: " + program_ + " [options]\n\n" + summary_ + "\n\noptions:\n";
  for (const auto& name : order_) {
    const Spec& spec = specs_.at(name);
    text += "  --" + name + " <" + TypeName(spec.type) + ">";
    if (!spec.default_value.empty()) text += "  (default: " + spec.default_value + ")";
    text += "\n      " + spec.help + "\n      env " + EnvironmentName(name) + "\n";
  }
  text += "  --help\n      print this text\n";
  return text;
}

const std::string& Options::GetString(const std::string& name) const { return specs_.at(name).value; }
int64_t Options::GetInt(const std::string& name) const {
  const auto& value = specs_.at(name).value;
  return value.empty() ? 0 : ParseInt(value).value();
}
bool Options::GetBool(const std::string& name) const {
  const auto& value = specs_.at(name).value;
  return !value.empty() && ParseBool(value).value();
}
std::chrono::milliseconds Options::GetDuration(const std::string& name) const {
  const auto& value = specs_.at(name).value;
  return value.empty() ? std::chrono::milliseconds(0) : ParseDuration(value).value();
}
uint64_t Options::GetBytes(const std::string& name) const {
  const auto& value = specs_.at(name).value;
  return value.empty() ? 0 : ParseBytes(value).value();
}
bool Options::IsSet(const std::string& name) const { return specs_.at(name).set; }

}  // namespace warden::config
