#include "common/util/json_text.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

using namespace warden;

TEST_CASE("AppendJsonString escapes as nlohmann's dump does, runs and escapes mixed") {
  std::string every;  // every byte below 0x80, in runs between the ones that need escaping
  for (int c = 1; c < 0x80; ++c) every += static_cast<char>(c);
  for (const std::string& text : {std::string(), std::string("plain"), std::string("\"quoted\""),
                                 std::string("back\\slash\nline\ttab\x01\x1f end"), std::string("naïve ✓"),
                                 std::string(1, '\0') + "after a zero", every}) {
    std::string out = "prefix:";
    AppendJsonString(out, text);
    CHECK(out == "prefix:" + nlohmann::json(text).dump());
  }
}

TEST_CASE("AppendJsonString writes an empty view, even one without data, as \"\"") {
  std::string out;
  AppendJsonString(out, std::string_view());
  CHECK(out == "\"\"");
}

TEST_CASE("AppendJsonString finds a character to escape at any place in an 8-byte word") {
  for (char special : {'"', '\\', '\n', '\x1f', '\0'}) {
    for (size_t at = 0; at < 20; ++at) {
      std::string text(20, 'a');
      text[at] = special;
      text += "\xc3\xa9\xe2\x9c\x93";  // bytes of 0x80 and above pass through
      std::string out;
      AppendJsonString(out, text);
      CHECK(out == nlohmann::json(text).dump());
    }
  }
}

TEST_CASE("Utf8SequenceLength takes RFC 3629's sequences and nothing else") {
  CHECK(Utf8SequenceLength("\xC3\xA9 rest") == 2);          // é
  CHECK(Utf8SequenceLength("\xE2\x82\xAC") == 3);           // €
  CHECK(Utf8SequenceLength("\xF0\x9F\x98\x80") == 4);       // U+1F600
  CHECK(Utf8SequenceLength("\xF4\x8F\xBF\xBF") == 4);       // U+10FFFF, the last
  CHECK(Utf8SequenceLength("") == 0);
  CHECK(Utf8SequenceLength("a") == 0);                      // ASCII is not a sequence
  CHECK(Utf8SequenceLength("\x80") == 0);                   // a continuation byte first
  CHECK(Utf8SequenceLength("\xC0\xAF") == 0);               // overlong '/'
  CHECK(Utf8SequenceLength("\xE0\x80\xAF") == 0);           // overlong, three bytes
  CHECK(Utf8SequenceLength("\xED\xA0\x80") == 0);           // a surrogate
  CHECK(Utf8SequenceLength("\xF4\x90\x80\x80") == 0);       // past U+10FFFF
  CHECK(Utf8SequenceLength("\xF5\x80\x80\x80") == 0);
  CHECK(Utf8SequenceLength("\xE2\x82") == 0);               // cut short
  CHECK(Utf8SequenceLength("\xE2\x82\x41") == 0);           // a bad continuation
}
