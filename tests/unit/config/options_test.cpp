#include "common/config/options.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>

#include <unistd.h>

using namespace warden::config;

namespace {
Options MakeOptions() {
  Options options("test", "a test binary");
  options.Add("listen", OptionType::kString, "127.0.0.1:1", "address");
  options.Add("threads", OptionType::kInt, "1", "threads");
  options.Add("verbose", OptionType::kBool, "false", "more output");
  options.Add("timeout", OptionType::kDuration, "10s", "a timeout");
  options.Add("max-body", OptionType::kBytes, "1MiB", "a size");
  return options;
}
std::string WriteFile(const std::string& text) {
  static int counter = 0;
  std::string path = "/tmp/warden-options-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".yaml";
  std::ofstream(path) << text;
  return path;
}
}  // namespace

TEST_CASE("defaults apply when nothing is set") {
  Options options = MakeOptions();
  const char* argv[] = {"test"};
  REQUIRE(options.Parse(1, argv, nullptr).ok());
  CHECK(options.GetString("listen") == "127.0.0.1:1");
  CHECK(options.GetDuration("timeout") == std::chrono::seconds(10));
  CHECK(options.GetBytes("max-body") == 1024 * 1024);
  CHECK_FALSE(options.IsSet("listen"));
}

TEST_CASE("file < environment < flag") {
  std::string path = WriteFile("threads: 3\nlisten: 0.0.0.0:9\nmax_body: 2MiB\n");
  Options options = MakeOptions();
  std::string config_flag = "--config=" + path;
  const char* argv[] = {"test", config_flag.c_str(), "--threads", "5", "--verbose", "extra"};
  const char* env[] = {"WARDEN_THREADS=4", "WARDEN_TIMEOUT=250ms", "OTHER=1", nullptr};
  REQUIRE(options.Parse(6, argv, env).ok());
  CHECK(options.GetInt("threads") == 5);                 // flag beats env and file
  CHECK(options.GetString("listen") == "0.0.0.0:9");     // file beats default
  CHECK(options.GetDuration("timeout") == std::chrono::milliseconds(250));  // env
  CHECK(options.GetBytes("max-body") == 2 * 1024 * 1024);  // underscores accepted in files
  CHECK(options.GetBool("verbose"));
  REQUIRE(options.positional().size() == 1);
  CHECK(options.positional()[0] == "extra");
  std::remove(path.c_str());
}

TEST_CASE("bad values name the option and where they came from") {
  {
    Options options = MakeOptions();
    const char* argv[] = {"test", "--threads", "many"};
    auto status = options.Parse(3, argv, nullptr);
    CHECK(status.message() == "option 'threads' (from flag --threads): 'many' is not an integer");
  }
  {
    Options options = MakeOptions();
    const char* argv[] = {"test"};
    const char* env[] = {"WARDEN_TIMEOUT=soon", nullptr};
    auto status = options.Parse(1, argv, env);
    CHECK(status.message().find("environment WARDEN_TIMEOUT") != std::string::npos);
  }
  {
    Options options = MakeOptions();
    const char* argv[] = {"test", "--nope"};
    CHECK(options.Parse(2, argv, nullptr).message() == "unknown flag --nope; see --help");
  }
  {
    Options options = MakeOptions();
    const char* argv[] = {"test", "--listen"};
    CHECK(options.Parse(2, argv, nullptr).message() == "flag --listen needs a value");
  }
}

TEST_CASE("config file errors give the file and line") {
  std::string path = WriteFile("threads: 2\nbogus: 1\n");
  Options options = MakeOptions();
  std::string flag = "--config=" + path;
  const char* argv[] = {"test", flag.c_str()};
  auto status = options.Parse(2, argv, nullptr);
  CHECK(status.message() == "unknown option 'bogus' (from " + path + " line 2); see --help");

  std::string broken = WriteFile("threads: [1,\n");
  Options other = MakeOptions();
  std::string broken_flag = "--config=" + broken;
  const char* argv2[] = {"test", broken_flag.c_str()};
  CHECK(other.Parse(2, argv2, nullptr).message().find("line ") != std::string::npos);

  Options missing = MakeOptions();
  const char* argv3[] = {"test", "--config", "/nonexistent/warden.yaml"};
  CHECK(missing.Parse(3, argv3, nullptr).message() == "cannot read config file '/nonexistent/warden.yaml'");
  std::remove(path.c_str());
}

TEST_CASE("help lists every option with default and environment variable") {
  Options options = MakeOptions();
  const char* argv[] = {"test", "--help"};
  REQUIRE(options.Parse(2, argv, nullptr).ok());
  CHECK(options.help_requested());
  std::string help = options.HelpText();
  CHECK(help.find("--max-body <bytes>  (default: 1MiB)") != std::string::npos);
  CHECK(help.find("env WARDEN_MAX_BODY") != std::string::npos);
}

TEST_CASE("duration and size syntax") {
  CHECK(ParseDuration("1.5s").value() == std::chrono::milliseconds(1500));
  CHECK(ParseDuration("2m").value() == std::chrono::minutes(2));
  CHECK_FALSE(ParseDuration("10").ok());
  CHECK(ParseBytes("64KiB").value() == 65536);
  CHECK(ParseBytes("10MB").value() == 10'000'000);
  CHECK_FALSE(ParseBytes("lots").ok());
}
