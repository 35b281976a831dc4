// JsonWriter: a minimal, append-only JSON text builder for the API views.
//
// The writer appends to its own std::string and places commas itself, so
// callers only state structure:
//
//   JsonWriter w;
//   w.begin_object();
//   w.key("symbol").string("ACME");
//   w.key("price").decimal(1502500, 4);   // "150.2500" (a JSON string)
//   w.key("bids").begin_array(); ... w.end_array();
//   w.end_object();
//   std::string text = w.take();
//
// Contract:
//  - Decimals (prices, quantities, amounts) are always JSON strings holding
//    format_decimal(value, scale), so no client parses them as binary
//    floating point (the API rule).
//  - Strings are escaped per RFC 8259: '"', '\\' and every control
//    character below 0x20 are escaped (\b \f \n \r \t, else \u00XX); every
//    other byte, including non-ASCII UTF-8, is copied unchanged. The writer
//    does not validate UTF-8: input text (symbols, client order ids) is
//    validated by the gateway before it reaches the engine.
//  - REQUIRES (not checked beyond debug asserts): calls form well-nested
//    JSON; inside an object every value is preceded by key().
// Thread-safety: none; one writer per response.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stox::marketdata {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();

  // The name of the next member of the current object.
  JsonWriter& key(std::string_view name);

  JsonWriter& string(std::string_view text);
  JsonWriter& integer(std::int64_t value);
  JsonWriter& unsigned_integer(std::uint64_t value);
  JsonWriter& boolean(bool value);
  JsonWriter& null();
  // format_decimal(value, scale) as a JSON string. REQUIRES: 0 <= scale <= 9.
  JsonWriter& decimal(std::int64_t value, int scale);
  // A value that is already JSON text (another writer's output), copied as
  // is. REQUIRES: `json` is one complete JSON value.
  JsonWriter& json_value(std::string_view json);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void before_value();
  void raw(std::string_view s) { out_.append(s); }

  std::string out_;
  // One entry per open container: true until its first element is written.
  std::vector<bool> first_;
  bool after_key_ = false;
};

// `text` as a quoted, escaped JSON string, appended to `out`.
void append_json_string(std::string& out, std::string_view text);

}  // namespace stox::marketdata
