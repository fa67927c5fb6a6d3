r"""locus_fuzz_test: a libFuzzer target that is also an ordinary test.

One target, two builds:

  * Default build (gcc) and --config=asan: the fuzz target is linked with
    //tests/fuzz:standalone_driver. `bazel test` replays the seed corpus and
    every truncation of each seed, then runs deterministic random mutations
    for `standalone_seconds` (3 s by default). It is a real regression test
    and runs with everything else under `bazel test //...`.
  * --config=fuzz (clang-14, -fsanitize=fuzzer,address,undefined): linked
    with libFuzzer's own main; `bazel test` runs libFuzzer from the seeds for
    `max_total_time` seconds (30 by default). Use a separate output base so
    that the clang toolchain does not invalidate the gcc build, and name the
    targets (or packages like //tests/fuzz/...), never //...: from a second
    output base, //... walks into the workspace's bazel-<dir> symlink, which
    belongs to the default one. scripts/test lists them with bazel query:

      bazel --output_base="$(bazel info output_base)-fuzz" test --config=fuzz \
          $(bazel query 'attr(tags, "[\[ ]fuzz[,\]]", tests(//...))')

    Override the time with --test_arg=-max_total_time=N (the last flag wins)
    and raise --test_timeout to match: the target is a small test (60 s).
    A crashing input is printed in test.log and written to the test's
    undeclared outputs: test.outputs/outputs.zip under
    $(bazel --output_base=... info --config=fuzz bazel-testlogs)/<package>/<name>/.
    For a long local session, run the binary directly:

      fuzz_base="$(bazel info output_base)-fuzz"
      bazel --output_base="$fuzz_base" build --config=fuzz //pkg:name
      "$(bazel --output_base="$fuzz_base" info --config=fuzz bazel-bin)"/pkg/name \
          -max_total_time=600 NEW_CORPUS_DIR pkg/corpus_dir

    (--config=fuzz creates no bazel-* symlinks in the workspace: those stay
    with the default gcc output base.)

Writing one (e.g. for an HTTP parser, in proxy/http/BUILD):

    load("//bazel:fuzz.bzl", "locus_fuzz_test")

    locus_fuzz_test(
        name = "request_parser_fuzz_test",
        srcs = ["request_parser_fuzz.cc"],
        corpus = glob(["fuzz_corpus/request/*"]),
        dict = "fuzz_corpus/http.dict",   # optional libFuzzer dictionary
        deps = [":request_parser"],
    )

request_parser_fuzz.cc defines only
`extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)`,
returns 0, and should check properties (round trips, bounds) with
tests/fuzz/fuzz_check.h's FUZZ_CHECK rather than only "does not crash". It
must not define main() or LLVMFuzzerInitialize (//tests/fuzz:libfuzzer_outputs
defines the latter). Seed files must be files of the calling package (a glob),
not labels: their paths are passed to the test as arguments. Keep seeds small
(real captured inputs are best) and the target allocation-free where the code
under test is.

The target is a small cc_test tagged "fuzz" (plus your tags); scripts/test
runs all "fuzz"-tagged tests a second time under --config=fuzz and prints
each one's execution count.
"""

load("@rules_cc//cc:defs.bzl", "cc_test")

_LIBFUZZER = "//tests/fuzz:libfuzzer_build"

def _package_path(f):
    if f.startswith(":") or f.startswith("//") or f.startswith("@"):
        fail("locus_fuzz_test: corpus and dict take files of this package (e.g. a glob), not labels: " + f)
    package = native.package_name()
    return package + "/" + f if package else f

def locus_fuzz_test(
        name,
        srcs,
        deps = [],
        corpus = [],
        dict = None,
        max_len = 0,
        max_total_time = 30,
        standalone_seconds = 3,
        tags = [],
        **kwargs):
    """A cc_test that is a libFuzzer target under --config=fuzz.

    Args:
      name: the test's name; by convention it ends in "_fuzz_test".
      srcs: sources; one defines LLVMFuzzerTestOneInput.
      deps: the code under test.
      corpus: seed inputs, files of this package (e.g. glob(["corpus/x/*"])).
      dict: optional libFuzzer dictionary file of this package.
      max_len: longest input to try (0: libFuzzer's guess, 4096 standalone).
      max_total_time: seconds of libFuzzer under --config=fuzz.
      standalone_seconds: seconds of random inputs in the default build.
      tags: extra tags; "fuzz" is always added.
      **kwargs: passed to cc_test (e.g. copts, visibility).
    """
    seeds = [_package_path(f) for f in corpus]

    libfuzzer_args = [
        "-max_total_time=%d" % max_total_time,
        "-print_final_stats=1",
        "-timeout=10",
        "-rss_limit_mb=2048",
    ]
    if seeds:
        # Seeds only: with no corpus directory libFuzzer writes nothing into
        # the (read-only) runfiles tree.
        libfuzzer_args.append("-seed_inputs=" + ",".join(seeds))
    if dict:
        libfuzzer_args.append("-dict=" + _package_path(dict))
    if max_len:
        libfuzzer_args.append("-max_len=%d" % max_len)

    standalone_args = ["--seconds=%d" % standalone_seconds]
    if max_len:
        standalone_args.append("--max_len=%d" % max_len)
    standalone_args += seeds

    cc_test(
        name = name,
        size = kwargs.pop("size", "small"),
        srcs = srcs,
        deps = deps + ["//tests/fuzz:fuzz_check"] + select({
            _LIBFUZZER: ["//tests/fuzz:libfuzzer_outputs"],
            "//conditions:default": ["//tests/fuzz:standalone_driver"],
        }),
        linkopts = select({
            _LIBFUZZER: ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        # Static, so that libFuzzer's weak references find the always-linked
        # hooks and everything is instrumented the same way.
        linkstatic = True,
        data = corpus + ([dict] if dict else []),
        args = select({
            _LIBFUZZER: libfuzzer_args,
            "//conditions:default": standalone_args,
        }),
        tags = tags + ["fuzz"],
        **kwargs
    )
