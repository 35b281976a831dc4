#include "server/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace stox::server {
namespace {

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_metric_name(std::string_view name) {
  return !name.empty() && (is_name_start(name[0]) || name[0] == ':') &&
         std::all_of(name.begin(), name.end(), [](char c) { return is_name_char(c) || c == ':'; });
}

// [a-zA-Z_][a-zA-Z0-9_]*, and names starting with "__" are reserved.
bool valid_label_name(std::string_view name) {
  return !name.empty() && is_name_start(name[0]) && !name.starts_with("__") &&
         std::all_of(name.begin(), name.end(), is_name_char);
}

void append_escaped(std::string* out, std::string_view text, bool escape_quote) {
  for (const char c : text) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else if (c == '"' && escape_quote) {
      *out += "\\\"";
    } else {
      *out += c;
    }
  }
}

std::string render_labels(const Labels& labels) {
  std::string out;
  for (const auto& [name, value] : labels) {
    if (!valid_label_name(name)) throw std::invalid_argument("invalid label name: " + name);
    if (!out.empty()) out += ',';
    out += name;
    out += "=\"";
    append_escaped(&out, value, /*escape_quote=*/true);
    out += '"';
  }
  return out;
}

void append_double(std::string* out, double v) {
  if (std::isnan(v)) {
    *out += "NaN";
  } else if (std::isinf(v)) {
    *out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    const auto result = std::to_chars(buf, buf + sizeof buf, v);
    out->append(buf, result.ptr);
  }
}

void append_uint(std::string* out, std::uint64_t v) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, result.ptr);
}

// `name{labels} ` (or `name `) ready for the value.
void append_series(std::string* out, std::string_view name, std::string_view suffix,
                   std::string_view labels, std::string_view extra_label = {}) {
  *out += name;
  *out += suffix;
  if (!labels.empty() || !extra_label.empty()) {
    *out += '{';
    *out += labels;
    if (!labels.empty() && !extra_label.empty()) *out += ',';
    *out += extra_label;
    *out += '}';
  }
  *out += ' ';
}

}  // namespace

void Counter::write(std::string* out, std::string_view name, std::string_view labels) const {
  append_series(out, name, "", labels);
  append_uint(out, value());
  *out += '\n';
}

void Gauge::write(std::string* out, std::string_view name, std::string_view labels) const {
  append_series(out, name, "", labels);
  append_double(out, value());
  *out += '\n';
}

void GaugeFn::write(std::string* out, std::string_view name, std::string_view labels) const {
  append_series(out, name, "", labels);
  append_double(out, fn_());
  *out += '\n';
}

Histogram::Histogram(const std::vector<double>& bounds_seconds)
    : bounds_seconds_(bounds_seconds),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_seconds.size() + 1)) {
  for (std::size_t i = 0; i < bounds_seconds.size(); ++i) {
    const double b = bounds_seconds[i];
    if (!std::isfinite(b) || (i > 0 && b <= bounds_seconds[i - 1]) || std::fabs(b) > 9e9) {
      throw std::invalid_argument("histogram bounds must be finite and strictly increasing");
    }
    bounds_ns_.push_back(std::llround(b * 1e9));
  }
}

void Histogram::observe_ns(std::int64_t ns) {
  ns = std::max<std::int64_t>(ns, 0);
  // The first bucket whose upper bound is >= ns ("le" is inclusive).
  const auto it = std::lower_bound(bounds_ns_.begin(), bounds_ns_.end(), ns);
  counts_[static_cast<std::size_t>(it - bounds_ns_.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
}

std::uint64_t Histogram::count() const {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_ns_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
  }
  return total;
}

void Histogram::write(std::string* out, std::string_view name, std::string_view labels) const {
  // _count is the +Inf bucket by definition, so both come from one pass.
  std::uint64_t cumulative = 0;
  std::string le;
  for (std::size_t i = 0; i <= bounds_seconds_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    le = "le=\"";
    if (i < bounds_seconds_.size()) {
      append_double(&le, bounds_seconds_[i]);
    } else {
      le += "+Inf";
    }
    le += '"';
    append_series(out, name, "_bucket", labels, le);
    append_uint(out, cumulative);
    *out += '\n';
  }
  append_series(out, name, "_sum", labels);
  append_double(out, static_cast<double>(sum_ns()) / 1e9);
  *out += '\n';
  append_series(out, name, "_count", labels);
  append_uint(out, cumulative);
  *out += '\n';
}

std::string_view Registry::type_name(Type type) {
  switch (type) {
    case Type::kCounter: return "counter";
    case Type::kGauge: return "gauge";
    case Type::kHistogram: return "histogram";
  }
  return "untyped";
}

Metric& Registry::add(std::string_view name, std::string_view help, Type type,
                      const Labels& labels, std::unique_ptr<Metric> metric) {
  const std::string name_text(name);
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name: " + name_text);
  if (help.empty()) throw std::invalid_argument(name_text + ": help text is empty");
  if (type == Type::kCounter && !name.ends_with("_total")) {
    throw std::invalid_argument(name_text + ": a counter's name must end in _total");
  }
  std::string rendered = render_labels(labels);

  const std::lock_guard lock(mutex_);
  auto family = std::find_if(families_.begin(), families_.end(),
                             [&](const Family& f) { return f.name == name; });
  if (family == families_.end()) {
    families_.push_back(Family{name_text, std::string(help), type, {}});
    family = families_.end() - 1;
  } else if (family->type != type || family->help != help) {
    throw std::invalid_argument(name_text + ": registered before with another type or help");
  }
  for (const Series& s : family->series) {
    if (s.labels == rendered) {
      std::string message = name_text;
      message += "{" + rendered + "}: registered twice";
      throw std::invalid_argument(message);
    }
  }
  family->series.push_back(Series{std::move(rendered), std::move(metric)});
  return *family->series.back().metric;
}

Counter& Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
  return static_cast<Counter&>(add(name, help, Type::kCounter, labels, std::make_unique<Counter>()));
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  return static_cast<Gauge&>(add(name, help, Type::kGauge, labels, std::make_unique<Gauge>()));
}

Histogram& Registry::histogram(std::string_view name, std::string_view help,
                               const std::vector<double>& bounds_seconds,
                               const Labels& labels) {
  for (const auto& label : labels) {
    if (label.first == "le") throw std::invalid_argument(std::string(name) + ": label le is reserved");
  }
  return static_cast<Histogram&>(add(name, help, Type::kHistogram, labels,
                                     std::make_unique<Histogram>(bounds_seconds)));
}

GaugeFn& Registry::gauge_fn(std::string_view name, std::string_view help,
                            std::function<double()> fn, const Labels& labels) {
  return static_cast<GaugeFn&>(
      add(name, help, Type::kGauge, labels, std::make_unique<GaugeFn>(std::move(fn))));
}

std::string Registry::expose() const {
  std::string out;
  const std::lock_guard lock(mutex_);
  for (const Family& family : families_) {
    out += "# HELP ";
    out += family.name;
    out += ' ';
    append_escaped(&out, family.help, /*escape_quote=*/false);
    out += "\n# TYPE ";
    out += family.name;
    out += ' ';
    out += type_name(family.type);
    out += '\n';
    for (const Series& s : family.series) s.metric->write(&out, family.name, s.labels);
  }
  return out;
}

}  // namespace stox::server
