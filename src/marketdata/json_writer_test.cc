// JsonWriter: structure (commas, nesting), string escaping and number forms.
#include "marketdata/json_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace stox::marketdata {
namespace {

std::string str(std::string_view text) {
  JsonWriter w;
  w.string(text);
  return w.take();
}

TEST(JsonWriterTest, PlacesCommasBetweenMembersAndElements) {
  JsonWriter w;
  w.begin_object();
  w.key("a").integer(1);
  w.key("b").begin_array().integer(2).string("x").null().boolean(true).boolean(false).end_array();
  w.key("c").begin_object().end_object();
  w.key("d").begin_array().end_array();
  w.end_object();
  EXPECT_EQ(w.text(), R"({"a":1,"b":[2,"x",null,true,false],"c":{},"d":[]})");
}

TEST(JsonWriterTest, NestsObjectsInsideArrays) {
  JsonWriter w;
  w.begin_array();
  w.begin_object().key("p").integer(1).end_object();
  w.begin_object().key("p").integer(2).key("q").begin_array().integer(3).end_array().end_object();
  w.end_array();
  EXPECT_EQ(w.text(), R"([{"p":1},{"p":2,"q":[3]}])");
}

TEST(JsonWriterTest, EscapesQuotesAndBackslash) {
  EXPECT_EQ(str(R"(say "hi" \ bye)"), R"("say \"hi\" \\ bye")");
}

TEST(JsonWriterTest, EscapesEveryControlCharacter) {
  EXPECT_EQ(str("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(str(std::string_view("\x00\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  for (int c = 0; c < 0x20; ++c) {
    const std::string out = str(std::string(1, static_cast<char>(c)));
    EXPECT_EQ(out[1], '\\') << c;
    EXPECT_EQ(out.find_first_of(std::string_view("\x00\x1f", 2)), std::string::npos);
  }
  // DEL (0x7f) and '/' need no escape.
  EXPECT_EQ(str("/\x7f"), "\"/\x7f\"");
}

TEST(JsonWriterTest, PassesNonAsciiUtf8Through) {
  EXPECT_EQ(str("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88\"");
}

TEST(JsonWriterTest, EscapesKeysLikeStrings) {
  JsonWriter w;
  w.begin_object().key("a\"b").integer(0).end_object();
  EXPECT_EQ(w.text(), R"({"a\"b":0})");
}

TEST(JsonWriterTest, WritesIntegersAtTheirLimits) {
  JsonWriter w;
  w.begin_array();
  w.integer(std::numeric_limits<std::int64_t>::min());
  w.integer(std::numeric_limits<std::int64_t>::max());
  w.unsigned_integer(std::numeric_limits<std::uint64_t>::max());
  w.integer(0);
  w.end_array();
  EXPECT_EQ(w.text(), "[-9223372036854775808,9223372036854775807,18446744073709551615,0]");
}

TEST(JsonWriterTest, WritesDecimalsAsStringsAtTheirScale) {
  JsonWriter w;
  w.begin_array();
  w.decimal(1502500, 4);
  w.decimal(-5, 2);
  w.decimal(42, 0);
  w.decimal(0, 3);
  w.end_array();
  EXPECT_EQ(w.text(), R"(["150.2500","-0.05","42","0.000"])");
}

TEST(JsonWriterTest, EmbedsPrewrittenJsonAsOneValueWithCommas) {
  JsonWriter inner;
  inner.begin_object().key("a").integer(1).end_object();
  JsonWriter w;
  w.begin_object().key("channel").string("x").key("data").json_value(inner.text());
  w.key("list").begin_array().json_value("1").json_value("[2]").end_array().end_object();
  EXPECT_EQ(w.text(), R"({"channel":"x","data":{"a":1},"list":[1,[2]]})");
}

}  // namespace
}  // namespace stox::marketdata
