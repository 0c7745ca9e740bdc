// Fuzzes SpiceDB schema text: parse any text (ParseSchemaZed) and, when it parses, compile the
// model and check relations in a small directory built on it (see directory_model_exercise.h).
// Input: the schema text.
// Properties: nothing crashes, hangs or leaks; a schema that compiles is one every loader takes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/directory/schema_zed.h"
#include "tests/fuzz/directory_model_exercise.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  warden::directory::ManifestSource source;
  source.format = warden::directory::ManifestSource::Format::kZed;
  source.name = "schema.zed";
  source.text.assign(reinterpret_cast<const char*>(data), size);
  auto ast = warden::directory::ParseSchemaZed(source.text, source.name);
  if (!ast.ok()) {
    (void)ast.status().message();
    return 0;
  }
  warden::fuzz::ExerciseManifest(*ast, source);
  return 0;
}
