// Linked into libFuzzer builds of locus_fuzz_test targets (bazel/fuzz.bzl).
//
// Under `bazel test` the working directory is the read-only runfiles tree,
// and test arguments are not shell-expanded, so libFuzzer cannot be told
// where to write a crashing input from BUILD files. libFuzzer calls
// LLVMFuzzerInitialize before it parses its flags and lets it change argv:
// this adds -artifact_prefix=$TEST_UNDECLARED_OUTPUTS_DIR/ unless an
// -artifact_prefix was given, so crash-*, leak-* and timeout-* files land
// in bazel-testlogs/<target>/test.outputs/. Fuzz targets therefore must not
// define LLVMFuzzerInitialize themselves.
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  const char* outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  if (outputs == nullptr || *outputs == '\0') return 0;
  for (int i = 1; i < *argc; ++i) {
    if (std::strncmp((*argv)[i], "-artifact_prefix=", 17) == 0) return 0;
  }
  // Lives until exit: libFuzzer keeps pointers into argv.
  static std::string flag = std::string("-artifact_prefix=") + outputs + "/";
  static std::vector<char*> args;
  args.assign(*argv, *argv + *argc);
  args.push_back(flag.data());
  args.push_back(nullptr);
  *argc = static_cast<int>(args.size()) - 1;
  *argv = args.data();
  return 0;
}
