// FUZZ_CHECK(cond): the property a fuzz target asserts. On failure it prints
// where and aborts, which libFuzzer and the standalone driver both report
// with the crashing input. Unlike assert() it is never compiled out.
#ifndef LOCUS_TESTS_FUZZ_FUZZ_CHECK_H_
#define LOCUS_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

#endif  // LOCUS_TESTS_FUZZ_FUZZ_CHECK_H_
