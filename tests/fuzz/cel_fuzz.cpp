// Fuzzes CEL: parse and compile any text, then evaluate and partially evaluate it against bindings
// drawn from the rest of the input. Input: expression source, a NUL byte, binding bytes.
// Properties: nothing crashes, hangs or leaks; evaluation stays within its cost budget.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/cel/cel.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using warden::cel::Value;
using warden::fuzz::FuzzInput;

Value DrawValue(FuzzInput& in, int depth) {
  switch (in.Range(0, depth > 0 ? 9 : 6)) {
    case 0: return Value::Null();
    case 1: return Value::Bool(in.Bool());
    case 2: return Value::Int(in.Int64() % 1000);
    case 3: return Value::Uint(static_cast<uint64_t>(in.Int64()));
    case 4: return Value::Double(in.Double());
    case 5: return Value::String(in.String(32));
    case 6: return Value::Int(in.Int64());
    case 7: return Value::Bytes(in.String(16));
    case 8: {
      std::vector<Value> items;
      for (size_t n = in.Range(0, 4); n > 0; --n) items.push_back(DrawValue(in, depth - 1));
      return Value::List(std::move(items));
    }
    default: {
      std::vector<std::pair<Value, Value>> entries;
      for (size_t n = in.Range(0, 4); n > 0; --n) {
        Value key = in.Bool() ? Value::String(in.String(8)) : Value::Int(static_cast<int64_t>(in.Range(0, 3)));
        entries.emplace_back(std::move(key), DrawValue(in, depth - 1));
      }
      return Value::Map(std::move(entries));  // duplicate keys make an error value: also worth fuzzing
    }
  }
}

const std::vector<std::string>& Variables() {
  static const std::vector<std::string> names = {"x", "y", "s", "l", "m", "R", "P", "request.resource", "G"};
  return names;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  size_t nul = all.find('\0');
  std::string_view source = all.substr(0, nul);
  FuzzInput bindings(nul == std::string_view::npos ? data + size : data + nul + 1,
                     nul == std::string_view::npos ? 0 : size - nul - 1);

  warden::cel::CompileOptions options;
  options.variables = Variables();
  options.undeclared_as_runtime_error = bindings.Bool();
  auto program = warden::cel::Compile(source, options);
  if (!program.ok()) return 0;

  warden::cel::Activation activation;
  activation.set_max_cost(100'000);
  for (const auto& name : Variables()) {
    if (bindings.Bool()) activation.Bind(name, DrawValue(bindings, 3));
  }
  Value result = warden::cel::Evaluate(**program, activation);
  (void)result.DebugString();

  if (bindings.Bool()) activation.MarkUnknown("R", "request.resource");
  if (bindings.Bool()) activation.MarkUnknown("x");
  warden::cel::Residual residual = warden::cel::PartialEvaluate(**program, activation);
  (void)residual.DebugString();
  return 0;
}
