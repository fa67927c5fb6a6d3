// Test helpers: drive a parser the way the proxy does (a buffer of
// unconsumed bytes, fed in chunks) and log what it reports as text, so that
// tests compare whole transcripts and a split input can be checked against
// the same input fed at once.
#ifndef LOCUS_PROXY_HTTP_PARSER_TEST_UTIL_H_
#define LOCUS_PROXY_HTTP_PARSER_TEST_UTIL_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http/http_parser.h"

namespace locus::proxy::http::testing {

struct DriveOptions {
  Limits limits;
  // Request parser: what to answer when it pauses (upgrade or CONNECT).
  // With neither, the transcript ends at "PAUSED".
  bool accept_upgrade = false;
  bool reject_upgrade = false;
  // Call Finish() after the last chunk (the peer closed).
  bool finish = false;
  // Response parser: one expectation per final response, in order.
  std::vector<ResponseExpectation> expectations;
};

// Chunk sizes to feed; what is left after them is fed as one last chunk.
using Splits = std::vector<size_t>;

// Feeds `input` in the given chunks and returns the transcript, one line per
// event (adjacent body or tunnel pieces merged):
//   REQ <method> <target> 1.<minor> host=<h> <framing> ka=<0|1> [continue] [upgrade]
//   RESP 1.<minor> <status> <reason> <framing> ka=<0|1> [tunnel]
//   F <name>: <value> [hop]        one per field of the head
//   BODY <bytes>   TRAILERS <n>: <v>; ...   COMPLETE   PAUSED   TUNNEL <bytes>
//   DONE   ERROR <name> <status>
// It also checks the feeding invariants (consumed <= size, data inside the
// input, pending() == bytes kept) and reports a violation as "VIOLATION ...".
std::string DriveRequest(std::string_view input, const Splits& splits,
                         const DriveOptions& options = {});
std::string DriveResponse(std::string_view input, const Splits& splits,
                          const DriveOptions& options);

// Every way of cutting `input` in two, plus one byte at a time.
std::vector<Splits> AllSplits(size_t size);
inline Splits OneByteAtATime(size_t size) { return Splits(size, 1); }

}  // namespace locus::proxy::http::testing

#endif  // LOCUS_PROXY_HTTP_PARSER_TEST_UTIL_H_
