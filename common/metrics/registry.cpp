#include "common/metrics/registry.h"

#include <charconv>
#include <variant>

namespace warden::metrics {

struct Registry::Family {
  std::string name;
  std::string help;
  const char* type;
  struct Member {
    std::string labels;
    std::variant<std::unique_ptr<Counter>, std::unique_ptr<Gauge>, std::unique_ptr<Histogram>,
                 std::function<double()>>
        metric;
  };
  std::vector<Member> members;
};

void Histogram::ObserveNanoseconds(uint64_t nanoseconds) {
  double seconds = static_cast<double>(nanoseconds) * 1e-9;
  for (size_t i = 0; i < kBoundsSeconds.size(); ++i) {
    if (seconds <= kBoundsSeconds[i]) {
      buckets_[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_nanoseconds_.fetch_add(nanoseconds, std::memory_order_relaxed);
}

namespace {

// The shortest text that reads back as the same double ("0.00025", not "0.00025000000000000001").
std::string FormatDouble(double value) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

// Joins existing labels "{a="x"}" with one more label.
std::string WithLabel(const std::string& labels, const std::string& extra) {
  if (labels.empty()) return "{" + extra + "}";
  return labels.substr(0, labels.size() - 1) + "," + extra + "}";
}

}  // namespace

void Histogram::Render(const std::string& name, const std::string& labels, std::string& out) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBoundsSeconds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += name + "_bucket" + WithLabel(labels, std::string("le=\"") + kBoundLabels[i] + "\"") +
           " " + std::to_string(cumulative) + "\n";
  }
  uint64_t total = count_.load(std::memory_order_relaxed);
  out += name + "_bucket" + WithLabel(labels, "le=\"+Inf\"") + " " + std::to_string(total) + "\n";
  out += name + "_sum" + labels + " " +
         FormatDouble(static_cast<double>(sum_nanoseconds_.load(std::memory_order_relaxed)) * 1e-9) +
         "\n";
  out += name + "_count" + labels + " " + std::to_string(total) + "\n";
}

std::string RenderLabels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ",";
    out += labels[i].first + "=\"";
    for (char c : labels[i].second) {
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += "\"";
  }
  return out + "}";
}

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family& Registry::FamilyFor(const std::string& name, const std::string& help,
                                      const char* type) {
  for (auto& family : families_) {
    if (family->name == name) return *family;
  }
  auto family = std::make_unique<Family>();
  family->name = name;
  family->help = help;
  family->type = type;
  families_.push_back(std::move(family));
  return *families_.back();
}


Counter& Registry::AddCounter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  Family& family = FamilyFor(name, help, "counter");
  std::string rendered = RenderLabels(labels);
  for (auto& member : family.members) {
    if (member.labels == rendered) return *std::get<std::unique_ptr<Counter>>(member.metric);
  }
  family.members.push_back({rendered, std::make_unique<Counter>()});
  return *std::get<std::unique_ptr<Counter>>(family.members.back().metric);
}

Gauge& Registry::AddGauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  Family& family = FamilyFor(name, help, "gauge");
  std::string rendered = RenderLabels(labels);
  for (auto& member : family.members) {
    if (member.labels == rendered) return *std::get<std::unique_ptr<Gauge>>(member.metric);
  }
  family.members.push_back({rendered, std::make_unique<Gauge>()});
  return *std::get<std::unique_ptr<Gauge>>(family.members.back().metric);
}

Histogram& Registry::AddHistogram(const std::string& name, const std::string& help,
                                  const Labels& labels) {
  std::lock_guard lock(mutex_);
  Family& family = FamilyFor(name, help, "histogram");
  std::string rendered = RenderLabels(labels);
  for (auto& member : family.members) {
    if (member.labels == rendered) return *std::get<std::unique_ptr<Histogram>>(member.metric);
  }
  family.members.push_back({rendered, std::make_unique<Histogram>()});
  return *std::get<std::unique_ptr<Histogram>>(family.members.back().metric);
}

void Registry::AddCallbackGauge(const std::string& name, const std::string& help,
                                const Labels& labels, std::function<double()> read) {
  std::lock_guard lock(mutex_);
  Family& family = FamilyFor(name, help, "gauge");
  family.members.push_back({RenderLabels(labels), std::move(read)});
}

std::string Registry::RenderPrometheus() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& family : families_) {
    out += "# HELP " + family->name + " " + family->help + "\n";
    out += "# TYPE " + family->name + " " + family->type + "\n";
    for (const auto& member : family->members) {
      std::visit(
          [&](const auto& metric) {
            using T = std::decay_t<decltype(metric)>;
            if constexpr (std::is_same_v<T, std::unique_ptr<Counter>>) {
              out += family->name + member.labels + " " + std::to_string(metric->value()) + "\n";
            } else if constexpr (std::is_same_v<T, std::unique_ptr<Gauge>>) {
              out += family->name + member.labels + " " + std::to_string(metric->value()) + "\n";
            } else if constexpr (std::is_same_v<T, std::unique_ptr<Histogram>>) {
              metric->Render(family->name, member.labels, out);
            } else {
              out += family->name + member.labels + " " + FormatDouble(metric()) + "\n";
            }
          },
          member.metric);
    }
  }
  return out;
}

}  // namespace warden::metrics
