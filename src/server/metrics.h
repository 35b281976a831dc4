// Metrics in the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// A Registry is filled at start-up; the metrics it hands out live as long
// as it does, at stable addresses. Updating a metric (Counter::inc,
// Gauge::set, Histogram::observe_ns) touches only relaxed atomics: no lock,
// no allocation, safe from any thread. expose() takes the registry's lock
// and reads every atomic once; a scrape may see one metric updated and
// another not yet, never a torn value.
//
// Series of one name with different fixed labels form one family sharing
// one "# HELP" / "# TYPE" header, e.g.
//   stox_rejects_total{reason="INSUFFICIENT_FUNDS"} 3
//   stox_rejects_total{reason="PRICE_BAND"} 1
//
// Registration errors (an invalid metric or label name, a counter name
// without the "_total" suffix, an empty help text, a name registered again
// with the same labels or with another type or help, histogram bounds that
// are not finite and strictly increasing, a histogram label named "le")
// throw std::invalid_argument: they are programming errors in start-up code.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stox::server {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Base of every metric kind: how it writes its samples. Only the Registry
// calls write(); the hot-path methods of the kinds below are not virtual.
class Metric {
 public:
  virtual ~Metric() = default;
  Metric() = default;
  Metric(const Metric&) = delete;
  Metric& operator=(const Metric&) = delete;

  // Appends this series' sample lines. labels is the rendered label list
  // without braces ("" or `a="x",b="y"`).
  virtual void write(std::string* out, std::string_view name, std::string_view labels) const = 0;
};

// A count that only goes up.
class Counter final : public Metric {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }
  void write(std::string* out, std::string_view name, std::string_view labels) const override;

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A value that goes up and down.
class Gauge final : public Metric {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }
  void write(std::string* out, std::string_view name, std::string_view labels) const override;

 private:
  std::atomic<double> value_{0};
};

// A gauge whose value is read at exposition time (queue depths, connection
// counts owned by someone else). fn is called under the registry's lock,
// from the scraping thread: it must be thread-safe and quick.
class GaugeFn final : public Metric {
 public:
  explicit GaugeFn(std::function<double()> fn) : fn_(std::move(fn)) {}
  void write(std::string* out, std::string_view name, std::string_view labels) const override;

 private:
  std::function<double()> fn_;
};

// Durations in fixed buckets. Observations are nanoseconds; the exposition
// is in seconds (bounds as given at creation, rounded to whole
// nanoseconds; _sum converted from the exact integer nanosecond sum).
// A negative observation counts as 0.
class Histogram final : public Metric {
 public:
  explicit Histogram(const std::vector<double>& bounds_seconds);

  void observe_ns(std::int64_t ns);
  std::uint64_t count() const;
  std::int64_t sum_ns() const { return sum_ns_.load(std::memory_order_relaxed); }
  void write(std::string* out, std::string_view name, std::string_view labels) const override;

 private:
  std::vector<double> bounds_seconds_;
  std::vector<std::int64_t> bounds_ns_;
  // counts_[i] observations in (bounds[i-1], bounds[i]]; the last is +Inf.
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<std::int64_t> sum_ns_{0};
};

class Registry {
 public:
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& histogram(std::string_view name, std::string_view help,
                       const std::vector<double>& bounds_seconds, const Labels& labels = {});
  GaugeFn& gauge_fn(std::string_view name, std::string_view help, std::function<double()> fn,
                    const Labels& labels = {});

  // The whole registry in text format 0.0.4, families in registration
  // order. Serve it with Content-Type kContentType.
  std::string expose() const;

  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  enum class Type : std::uint8_t { kCounter, kGauge, kHistogram };
  struct Series {
    std::string labels;  // rendered, without braces
    std::unique_ptr<Metric> metric;
  };
  struct Family {
    std::string name;
    std::string help;
    Type type;
    std::vector<Series> series;
  };

  static std::string_view type_name(Type type);
  Metric& add(std::string_view name, std::string_view help, Type type, const Labels& labels,
              std::unique_ptr<Metric> metric);

  mutable std::mutex mutex_;
  std::vector<Family> families_;  // guarded by mutex_
};

}  // namespace stox::server
