// YAML values as JSON, typing plain scalars the way YAML 1.2's core schema does (null, bool,
// int, float, else string); quoted and block scalars are always strings. Internal.
#pragma once

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace warden::policy {

// Values nested deeper than 64 levels become null.
nlohmann::json YamlToJson(const YAML::Node& node, int depth = 0);

}  // namespace warden::policy
