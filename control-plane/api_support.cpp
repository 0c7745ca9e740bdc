#include "control-plane/api_support.h"

#include <charconv>
#include <ctime>

namespace warden::control_plane {
namespace {

std::string_view BearerToken(const http::Request& request) {
  std::string_view value = request.header("Authorization");
  constexpr std::string_view kPrefix = "Bearer ";
  if (value.size() <= kPrefix.size()) return {};
  for (size_t i = 0; i < kPrefix.size() - 1; ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != std::tolower(static_cast<unsigned char>(kPrefix[i]))) {
      return {};
    }
  }
  value.remove_prefix(kPrefix.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  return value;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

}  // namespace

http::Handler Authed(ControlPlane& cp, Scope scope, size_t max_body, AuthedHandler handler) {
  return [&cp, scope, max_body, handler = std::move(handler)](http::Request& request) -> http::Response {
    std::string_view token = BearerToken(request);
    if (token.empty()) {
      return http::ErrorResponse(401, "unauthenticated", "Authorization: a bearer token is required")
          .with_header("WWW-Authenticate", "Bearer realm=\"warden\"");
    }
    auto caller = cp.Authenticate(token);
    if (!caller.ok()) {
      return http::ErrorResponse(401, "unauthenticated", "Authorization: invalid or revoked token")
          .with_header("WWW-Authenticate", "Bearer realm=\"warden\", error=\"invalid_token\"");
    }
    if (scope == Scope::kWrite && caller->scope != Scope::kWrite) {
      return http::ErrorResponse(403, "permission_denied", "Authorization: this token has read scope; writes need write");
    }
    if (request.body().size() > max_body) {
      return http::ErrorResponse(413, "resource_exhausted",
                                 "body: " + std::to_string(request.body().size()) + " bytes is over the limit of " +
                                     std::to_string(max_body) + " for this endpoint");
    }
    return handler(request, *caller);
  };
}

http::Response WriteResponse(const ControlPlane& cp, const WriteOutcome& outcome, unsigned status) {
  return http::JsonResponse(
      {{"revision", outcome.revision}, {"store_id", cp.store_id()}, {"changed", outcome.changed}}, status);
}

http::Response MultiErrorResponse(unsigned status, std::string_view code, const std::vector<nlohmann::json>& errors,
                                  std::string_view summary) {
  std::string message(summary);
  size_t shown = 0;
  for (const auto& e : errors) {
    if (shown++ == 20) {
      message += "\n... and " + std::to_string(errors.size() - 20) + " more";
      break;
    }
    message.append("\n").append(e.value("where", std::string())).append(": ").append(e.value("message", std::string()));
  }
  nlohmann::json body = {{"error", {{"code", code}, {"message", message}, {"errors", errors}}}};
  return http::JsonResponse(body, status);
}

namespace {

// What is wrong with a name or an id, or "" when nothing is: the checks build the field's label
// only for a refusal, since a batch checks six fields of every relation.
std::string NameProblem(std::string_view value, const AdminLimits& limits) {
  if (value.empty()) return "required";
  if (value.size() > limits.max_name_bytes) return "longer than " + std::to_string(limits.max_name_bytes) + " bytes";
  for (char c : value) {
    if (!IsNameChar(c)) return "'" + std::string(value) + "' may hold only letters, digits, '_', '-' and '.'";
  }
  if (value.front() == '.' || value.front() == '-') return "must start with a letter, digit or '_'";
  return {};
}

std::string IdProblem(std::string_view value, const AdminLimits& limits) {
  if (value.empty()) return "required";
  if (value.size() > limits.max_id_bytes) return "longer than " + std::to_string(limits.max_id_bytes) + " bytes";
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) return "holds a control character";
  }
  return {};
}

Status Refuse(std::string_view field, std::string_view member, const std::string& problem) {
  return Status::InvalidArgument(std::string(field).append(member).append(": ").append(problem));
}

}  // namespace

Status CheckName(std::string_view field, std::string_view value, const AdminLimits& limits) {
  std::string problem = NameProblem(value, limits);
  return problem.empty() ? Status::Ok() : Refuse(field, "", problem);
}

Status CheckId(std::string_view field, std::string_view value, const AdminLimits& limits) {
  std::string problem = IdProblem(value, limits);
  return problem.empty() ? Status::Ok() : Refuse(field, "", problem);
}

Status CheckPolicyPath(std::string_view field, std::string_view value, const AdminLimits& limits) {
  std::string f(field);
  if (value.empty()) return Status::InvalidArgument(f + ": required");
  if (value.size() > limits.max_path_bytes) {
    return Status::InvalidArgument(f + ": longer than " + std::to_string(limits.max_path_bytes) + " bytes");
  }
  for (char c : value) {
    if (!IsNameChar(c) && c != '/') {
      return Status::InvalidArgument(f + ": '" + std::string(value) +
                                     "' may hold only letters, digits, '_', '-', '.' and '/'");
    }
  }
  if (value.front() == '/' || value.find("..") != std::string_view::npos || value.find("//") != std::string_view::npos) {
    return Status::InvalidArgument(f + ": '" + std::string(value) + "' must be a relative path without '..'");
  }
  auto ends = [&](std::string_view s) { return value.size() > s.size() && value.substr(value.size() - s.size()) == s; };
  if (!ends(".yaml") && !ends(".yml") && !ends(".json")) {
    return Status::InvalidArgument(f + ": '" + std::string(value) + "' must end in .yaml, .yml or .json");
  }
  return Status::Ok();
}

Status CheckObject(std::string_view field, const directory::ObjectRecord& object, const AdminLimits& limits) {
  std::string f(field);
  WARDEN_RETURN_IF_ERROR(CheckName(f + ".type", object.type, limits));
  WARDEN_RETURN_IF_ERROR(CheckId(f + ".id", object.id, limits));
  if (object.display_name.size() > 4 * limits.max_id_bytes) {
    return Status::InvalidArgument(f + ".display_name: longer than " + std::to_string(4 * limits.max_id_bytes) +
                                   " bytes");
  }
  return Status::Ok();
}

Status CheckRelation(std::string_view field, const directory::RelationTuple& r, const AdminLimits& limits) {
  auto check = [&](std::string_view member, const std::string& value, bool id) {
    std::string problem = id ? IdProblem(value, limits) : NameProblem(value, limits);
    return problem.empty() ? Status::Ok() : Refuse(field, member, problem);
  };
  WARDEN_RETURN_IF_ERROR(check(".object_type", r.object_type, false));
  WARDEN_RETURN_IF_ERROR(check(".object_id", r.object_id, true));
  WARDEN_RETURN_IF_ERROR(check(".relation", r.relation, false));
  WARDEN_RETURN_IF_ERROR(check(".subject_type", r.subject_type, false));
  WARDEN_RETURN_IF_ERROR(check(".subject_id", r.subject_id, true));
  if (!r.subject_relation.empty()) WARDEN_RETURN_IF_ERROR(check(".subject_relation", r.subject_relation, false));
  return Status::Ok();
}

Result<uint64_t> QueryUint(const http::Request& request, std::string_view name, uint64_t fallback, uint64_t min,
                           uint64_t max) {
  auto text = request.query_param(name);
  if (!text) return fallback;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || text->empty()) {
    return Status::InvalidArgument(std::string(name) + ": '" + *text + "' is not a whole number");
  }
  if (value < min || value > max) {
    return Status::InvalidArgument(std::string(name) + ": must be between " + std::to_string(min) + " and " +
                                   std::to_string(max));
  }
  return value;
}

std::string Rfc3339(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

}  // namespace warden::control_plane
