// The fast JSON parser builds exactly what nlohmann builds, and leaves to nlohmann whatever it
// does not take (malformed text above all), so ParseJsonBody's answers are unchanged.
#include "common/http/json_fast_parse.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/fuzz/json_same_document.h"

using warden::http::FastParseJson;

namespace {

void CheckSameAsNlohmann(const std::string& text) {
  CAPTURE(text);
  nlohmann::json fast;
  REQUIRE(FastParseJson(text, 64, fast));
  nlohmann::json reference = nlohmann::json::parse(text);
  CHECK(warden::fuzz::SameDocument(fast, reference));
}

}  // namespace

TEST_CASE("well-formed documents parse to nlohmann's document, number types included") {
  for (const std::string& text : std::vector<std::string>{
           R"({"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"doc","id":"d1"}})",
           R"(  [1, -1, 0, -0, 1.5, -2.25e-3, 1E+2, 18446744073709551615, 18446744073709551616, -9223372036854775808,
               -9223372036854775809, 123456789012345678901234567890, 4.9e-324]  )",
           R"(["\"\\\/\b\f\n\r\t", "\u0041\u00e9\u20ac\ud83d\ude00", "\u0000", "héllo ✓ 😀 \u00E9"])",
           R"({"a":1,"b":{"c":[true,false,null,{}, []]},"a":2})",
           "\"plain\"", "true", "null", "0", " \t\r\n{ } \n",
       }) {
    CheckSameAsNlohmann(text);
  }
}

TEST_CASE("a repeated key keeps its first place and its last value, as in nlohmann") {
  nlohmann::json fast;
  REQUIRE(FastParseJson(R"({"z":1,"a":2,"z":3})", 64, fast));
  CHECK(fast.dump() == R"({"a":2,"z":3})");
}

TEST_CASE("malformed or unusual text is left to nlohmann") {
  for (const std::string& text : std::vector<std::string>{
           "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "[01]", "[1.]", "[.5]", "[1e]", "[+1]",
           "[-]", "tru", "nul", "[1] [2]", "\"unterminated", "\"bad \\x escape\"", "\"\\u12\"", "\"\\ud800\"",
           "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"ctrl \x01\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"",
           "\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"", "\xef\xbb\xbf{}", "[1e400]", "[-1e400]", "[1e-400]", "NaN",
       }) {
    CAPTURE(text);
    nlohmann::json fast;
    CHECK_FALSE(FastParseJson(text, 64, fast));
  }
}

TEST_CASE("nesting past the limit is left to the nesting check") {
  nlohmann::json fast;
  CHECK(FastParseJson("[[[]]]", 3, fast));
  CHECK_FALSE(FastParseJson("[[[[]]]]", 3, fast));
  CHECK_FALSE(FastParseJson(R"({"a":{"b":{"c":{}}}})", 3, fast));
}
