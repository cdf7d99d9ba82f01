// JSON for QMP: what the parser accepts and how it refuses the rest (each
// limit and each error names its problem), the serializer's QEMU format,
// and the splitter that cuts a byte stream into messages.
#include "system/monitor/json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cr16::system::monitor {
namespace {

Value parse_ok(std::string_view text) {
  Expected<Value> value = parse_json(text);
  EXPECT_TRUE(value) << text << ": " << value.error().message();
  return value ? *value : Value();
}

std::string parse_error(std::string_view text, const JsonLimits& limits = {}) {
  Expected<Value> value = parse_json(text, limits);
  EXPECT_FALSE(value) << text;
  return value ? "" : value.error().message();
}

TEST(Json, ParsesEveryKindOfValue) {
  Value value = parse_ok(
      R"( {"null": null, "t": true, "f": false, "int": -42, "big": 9223372036854775807,)"
      R"( "frac": 0.5, "exp": 1e3, "s": "a\"b\\c\/d\b\f\n\r\t", "list": [1, [], {}], "o": {"k": "v"}} )");
  ASSERT_EQ(value.type(), Value::Type::kDict);
  EXPECT_TRUE(value.find("null")->is_null());
  EXPECT_TRUE(value.find("t")->as_bool());
  EXPECT_FALSE(value.find("f")->as_bool());
  EXPECT_EQ(value.find("int")->as_int(), -42);
  EXPECT_EQ(value.find("big")->as_int(), INT64_MAX);
  EXPECT_EQ(value.find("frac")->as_double(), 0.5);
  EXPECT_EQ(value.find("exp")->type(), Value::Type::kDouble);  // an exponent makes a double
  EXPECT_EQ(value.find("exp")->as_double(), 1000.0);
  EXPECT_EQ(value.find("s")->as_string(), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(value.find("list")->as_list().size(), 3u);
  EXPECT_EQ(value.find("o")->string_or("k", ""), "v");
  // Members keep their order.
  EXPECT_EQ(value.as_dict().front().first, "null");
  EXPECT_EQ(value.as_dict().back().first, "o");
}

TEST(Json, AcceptsQemusSingleQuotedStrings) {
  Value value = parse_ok(R"({'execute': 'query-name', 'id': 'it\'s "quoted"'})");
  EXPECT_EQ(value.string_or("execute", ""), "query-name");
  EXPECT_EQ(value.string_or("id", ""), "it's \"quoted\"");
}

TEST(Json, UnicodeEscapesBecomeUtf8AndSurrogatesMustPair) {
  EXPECT_EQ(parse_ok(R"("\u00e9\u20AC\ud83d\ude00")").as_string(),
            "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  EXPECT_EQ(parse_ok(R"("a\u0000b")").as_string(), std::string("a\0b", 3));  // as QEMU
  EXPECT_EQ(parse_error(R"("\ud800")"),
            "JSON parse error, \\ud800 is a high surrogate without its low half (at byte 1)");
  EXPECT_EQ(parse_error(R"("\ud800\u0041")"),
            "JSON parse error, \\ud800 is a high surrogate followed by \\u0041, not a low "
            "surrogate (at byte 1)");
  EXPECT_EQ(parse_error(R"("x\udc00")"),
            "JSON parse error, \\udc00 is a lone low surrogate (at byte 2)");
  EXPECT_EQ(parse_error(R"("\u12zz")"),
            "JSON parse error, invalid \\u escape in a string (four "
            "hex digits expected) (at byte 2)");
  EXPECT_EQ(parse_error(R"("\u12")"),
            "JSON parse error, truncated \\u escape in a string (at byte 2)");
  EXPECT_EQ(parse_error(R"("\q")"),
            "JSON parse error, invalid escape sequence '\\q' in a string "
            "(at byte 1)");
}

TEST(Json, StringsMustBeUtf8WithoutRawControlCharacters) {
  EXPECT_EQ(parse_ok("\"caf\xc3\xa9\"").as_string(), "caf\xc3\xa9");
  EXPECT_EQ(parse_error("\"\xc3\x28\""),
            "JSON parse error, invalid UTF-8 sequence in a string (at byte 1)");
  EXPECT_EQ(parse_error("\"\xc0\xaf\""),
            "JSON parse error, invalid UTF-8 sequence in a string (at byte 1)");  // overlong
  EXPECT_EQ(parse_error("\"\xed\xa0\x80\""),
            "JSON parse error, invalid UTF-8 sequence in a string (at byte 1)");  // surrogate
  EXPECT_EQ(parse_error("\"\xf4\x90\x80\x80\""),
            "JSON parse error, invalid UTF-8 sequence in a string (at byte 1)");  // > U+10FFFF
  EXPECT_EQ(parse_error("\"a\x01\""),
            "JSON parse error, control character 0x01 in a string (escape it) (at byte 2)");
  EXPECT_EQ(parse_error("\"abc"), "JSON parse error, unterminated string (at byte 4)");
}

TEST(Json, NumbersFollowTheGrammarAndTheRange) {
  EXPECT_EQ(parse_ok("-0").as_int(), 0);
  EXPECT_EQ(parse_ok("-9223372036854775808").as_int(), INT64_MIN);
  // Beyond int64: a double, as QEMU parses it (commands then refuse the type).
  EXPECT_EQ(parse_ok("18446744073709551616").type(), Value::Type::kDouble);
  EXPECT_EQ(parse_error("1e400"), "JSON parse error, number out of range: 1e400 (at byte 0)");
  JsonLimits long_numbers;
  long_numbers.max_number = 1000;
  EXPECT_EQ(parse_error(std::string(400, '9'), long_numbers).substr(0, 43),
            "JSON parse error, number out of range: 9999");
  EXPECT_EQ(parse_error("01"), "JSON parse error, invalid number '01' (at byte 0)");
  EXPECT_EQ(parse_error("1."), "JSON parse error, invalid number '1.' (at byte 0)");
  EXPECT_EQ(parse_error("-"), "JSON parse error, invalid number '-' (at byte 0)");
  EXPECT_EQ(parse_error("1e"), "JSON parse error, invalid number '1e' (at byte 0)");
  EXPECT_EQ(parse_error("0x10"), "JSON parse error, invalid number '0x10' (at byte 0)");
  JsonLimits limits;
  limits.max_number = 8;
  EXPECT_EQ(parse_error("123456789", limits),
            "JSON parse error, number too long (more than 8 characters) (at byte 0)");
}

TEST(Json, StructureErrorsNameWhatWasExpected) {
  EXPECT_EQ(parse_error(""),
            "JSON parse error, expecting a value, found the end of the input (at byte 0)");
  EXPECT_EQ(parse_error("{\"execute\": foo}"),
            "JSON parse error, invalid keyword 'foo' (at byte 12)");
  EXPECT_EQ(parse_error("{\"a\" 1}"),
            "JSON parse error, expecting ':' after the key 'a' (at byte 5)");
  EXPECT_EQ(parse_error("{\"a\": 1,}"),
            "JSON parse error, expecting a string key, found '}' (at byte 8)");
  EXPECT_EQ(parse_error("[1,]"), "JSON parse error, expecting a value, found ']' (at byte 3)");
  EXPECT_EQ(parse_error("[1 2]"),
            "JSON parse error, expecting ',' or ']' in an array, found '2' (at byte 3)");
  EXPECT_EQ(parse_error("{1: 2}"),
            "JSON parse error, expecting a string key, found '1' (at byte 1)");
  EXPECT_EQ(parse_error("{\"a\": 1, \"a\": 2}"), "JSON parse error, duplicate key 'a' (at byte 9)");
  EXPECT_EQ(parse_error("[1] [2]"), "JSON parse error, unexpected '[' after the value (at byte 4)");
  EXPECT_EQ(parse_error("{\"a\": [1}"),
            "JSON parse error, expecting ',' or ']' in an array, found '}' (at byte 8)");
  EXPECT_EQ(parse_error("[\x01]"),
            "JSON parse error, expecting a value, found byte 0x01 (at byte 1)");
}

TEST(Json, NestingAndSizeAreLimited) {
  JsonLimits limits;
  limits.max_depth = 4;
  parse_ok("[[[[1]]]]");
  EXPECT_TRUE(parse_json("[[[[1]]]]", limits));
  EXPECT_EQ(parse_error("[[[[[1]]]]]", limits), "JSON nesting depth limit exceeded");
  EXPECT_EQ(parse_error(std::string(100000, '[')), "JSON nesting depth limit exceeded");
  limits.max_message = 10;
  EXPECT_EQ(parse_error("\"0123456789\"", limits), "JSON message too large (more than 10 bytes)");
}

TEST(Json, ManyKeysAreCheckedForDuplicatesQuickly) {
  std::string text = "{";
  for (int i = 0; i < 50000; ++i) text += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
  text += "}";
  EXPECT_EQ(parse_ok(text).as_dict().size(), 50000u);
}

TEST(Json, SerializesAsQemuDoes) {
  Value value =
      Value::dict()
          .set("return", Value::dict()
                             .set("status", Value::string("running"))
                             .set("singlestep", Value::boolean(false))
                             .set("running", Value::boolean(true)))
          .set("id", Value::list().push(Value::integer(-1)).push(Value()).push(Value::number(0.5)));
  EXPECT_EQ(to_json(value),
            R"({"return": {"status": "running", "singlestep": false, "running": true}, )"
            R"("id": [-1, null, 0.5]})");
  EXPECT_EQ(to_json(Value::dict()), "{}");
  EXPECT_EQ(to_json(Value::list()), "[]");
  // ASCII only: \uXXXX (upper-case hex, surrogate pairs), '/' as it is.
  EXPECT_EQ(to_json(Value::string("\xc3\xa9\xf0\x9f\x98\x80\x7f/\x01\"\\\n")),
            R"("\u00E9\uD83D\uDE00\u007F/\u0001\"\\\n")");
  // Bytes that are not UTF-8 become U+FFFD; the output stays valid JSON.
  EXPECT_EQ(to_json(Value::string("a\xff"
                                  "b")),
            R"("a\uFFFDb")");
  EXPECT_EQ(to_json(Value::number(1e300)), "1e+300");
  EXPECT_EQ(to_json(Value::number(1.0)), "1.0");  // stays a double when read back
  EXPECT_EQ(to_json(Value::number(-0.0)), "-0.0");
}

TEST(Json, PrettyOutputIndentsByFourAsQemuDoes) {
  Value value =
      Value::dict().set("return", Value::dict()).set("id", Value::list().push(Value::integer(1)));
  EXPECT_EQ(to_json(value, true),
            "{\n    \"return\": {\n    },\n    \"id\": [\n        1\n    ]\n}");
}

TEST(Json, WhatItWritesItReadsBack) {
  Value value =
      Value::dict()
          .set("s", Value::string(std::string("\0\x1f\xe2\x82\xac\xf0\x90\x80\x80 x", 10)))
          .set("n", Value::number(-2.5e-7))
          .set("i", Value::integer(INT64_MIN))
          .set("l", Value::list().push(Value::dict().set("k", Value::boolean(true))));
  for (bool pretty : {false, true}) {
    Expected<Value> back = parse_json(to_json(value, pretty));
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, value);
  }
}

// ---- the splitter

std::vector<std::string> split(std::string_view stream, JsonLimits limits = {},
                               JsonSplitter* reuse = nullptr) {
  JsonSplitter local(limits);
  JsonSplitter& splitter = reuse ? *reuse : local;
  std::vector<std::string> out;
  splitter.feed(stream, [&out](Expected<Value> message) {
    out.push_back(message ? to_json(*message) : "error: " + message.error().message());
  });
  return out;
}

TEST(JsonSplitter, CutsAStreamIntoMessages) {
  EXPECT_EQ(split(R"({"a": "}"}{"b": [1, {"c": "]"}]}  "x" 12 true )"),
            (std::vector<std::string>{R"({"a": "}"})", R"({"b": [1, {"c": "]"}]})", R"("x")", "12",
                                      "true"}));
  // Escaped quotes and brackets inside strings do not end anything.
  EXPECT_EQ(split(R"({"a": "\"}", 'b': '\'}'})"),
            (std::vector<std::string>{R"({"a": "\"}", "b": "'}"})"}));
}

TEST(JsonSplitter, AMessageMayArriveAByteAtATime) {
  const std::string text = R"({"execute": "query-status", "id": [1, "]"]})";
  JsonSplitter splitter;
  std::vector<std::string> out;
  for (char c : text) {
    splitter.feed(std::string_view(&c, 1), [&out](Expected<Value> message) {
      out.push_back(message ? to_json(*message) : message.error().message());
    });
    if (out.empty()) {
      EXPECT_TRUE(splitter.in_message());
    }
  }
  EXPECT_EQ(out, (std::vector<std::string>{R"({"execute": "query-status", "id": [1, "]"]})"}));
  EXPECT_FALSE(splitter.in_message());
}

TEST(JsonSplitter, BadMessagesAreReportedAndTheStreamGoesOn) {
  EXPECT_EQ(split(R"({"a": foo} ] {"b": 1})"),
            (std::vector<std::string>{"error: JSON parse error, invalid keyword 'foo' (at byte 6)",
                                      "error: JSON parse error, unexpected ']' between messages",
                                      R"({"b": 1})"}));
  // A top-level scalar ends at a delimiter; an unknown word is an error.
  EXPECT_EQ(split("nope{\"b\": 1}"),
            (std::vector<std::string>{"error: JSON parse error, invalid keyword 'nope' (at byte 0)",
                                      R"({"b": 1})"}));
}

TEST(JsonSplitter, OversizedAndOverdeepMessagesAreSkippedWithoutBeingStored) {
  JsonLimits limits;
  limits.max_message = 64;
  limits.max_depth = 8;
  JsonSplitter splitter(limits);
  const std::string big = "{\"pad\": \"" + std::string(1000, 'x') + "\"}";
  std::vector<std::string> out;
  auto sink = [&out](Expected<Value> message) {
    out.push_back(message ? to_json(*message) : message.error().message());
  };
  splitter.feed(big.substr(0, 500), sink);
  EXPECT_LE(splitter.buffered(), 64u);  // never more than the limit
  splitter.feed(big.substr(500) + "{\"ok\": 1}", sink);
  splitter.feed(std::string(10000, '[') + std::string(10000, ']') + "{\"ok\": 2}", sink);
  EXPECT_LE(splitter.buffered(), 64u);
  EXPECT_EQ(out,
            (std::vector<std::string>{"JSON message too large (more than 64 bytes)", R"({"ok": 1})",
                                      "JSON nesting depth limit exceeded", R"({"ok": 2})"}));
}

TEST(JsonSplitter, ResetForgetsAPartialMessage) {
  JsonSplitter splitter;
  EXPECT_TRUE(split("{\"a\": [1, ", {}, &splitter).empty());
  EXPECT_TRUE(splitter.in_message());
  splitter.reset();
  EXPECT_EQ(split("{\"b\": 2}", {}, &splitter), (std::vector<std::string>{R"({"b": 2})"}));
}

}  // namespace
}  // namespace cr16::system::monitor
