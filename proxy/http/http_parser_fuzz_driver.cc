// A stand-in for libFuzzer until the project's locus_fuzz_test macro lands:
// runs LLVMFuzzerTestOneInput on a built-in seed corpus (and on any files
// named on the command line), then on random mutations of the seeds for a
// bounded time and count. Deterministic: the same build runs the same inputs
// (up to the time bound). A violated invariant aborts inside the target.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// Mode byte (see http_parser_fuzz.cc), split seed, stream.
std::string Seed(uint8_t mode, std::string_view stream) {
  std::string s;
  s += static_cast<char>(mode);
  s += static_cast<char>(0x5a);
  s += stream;
  return s;
}

std::vector<std::string> SeedCorpus() {
  constexpr uint8_t kRequest = 0, kResponse = 1, kAccept = 2, kFinish = 4, kSmall = 8;
  constexpr uint8_t kHead = 1 << 4, kConnect = 2 << 4, kUpgrade = 3 << 4;
  return {
      Seed(kRequest, "GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8\r\n"
                     "Accept: */*\r\n\r\n"),
      Seed(kRequest, "POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
                     "GET /2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"),
      Seed(kRequest | kFinish,
           "PUT /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
           "5;a=b;c=\"d\\\"e\"\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n"),
      Seed(kRequest | kAccept,
           "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x00"),
      Seed(kRequest, "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"),
      Seed(kRequest, "GET http://u@h:80/p?q HTTP/1.1\r\nHost: x\r\n\r\nOPTIONS * HTTP/1.0\r\n\r\n"),
      Seed(kRequest | kSmall,
           "\r\nPOST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"),
      Seed(kRequest, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n"
                     "Content-Length: 4\r\n X: y\r\n\r\n"),
      Seed(kResponse, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"),
      Seed(kResponse | kFinish, "HTTP/1.0 200 OK\r\nServer: s\r\n\r\nuntil close"),
      Seed(kResponse | kHead, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"),
      Seed(kResponse, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                      "\r\n3\r\nabc\r\n0\r\n\r\n"),
      Seed(kResponse | kUpgrade, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                 "Connection: upgrade\r\n\r\ntunnel bytes"),
      Seed(kResponse | kConnect, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01"),
      Seed(kResponse | kSmall, "HTTP/1.1 204 No Content\r\nA: 1\r\nB : 2\r\n\r\n"),
  };
}

const char* const kDictionary[] = {
    "\r\n", "\r\n\r\n", "\n", "\r", " ", "\t", ":", ";", ",", "\"", "0\r\n\r\n",
    "Content-Length: ", "Transfer-Encoding: chunked\r\n", "chunked", "Host: ",
    "Connection: close\r\n", "Connection: upgrade\r\n", "Upgrade: x\r\n", "Expect: 100-continue\r\n",
    "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", " 200 ", " 101 ", " 204 ", "ffffffffffffffff", "\x00",
    "\x80", "\x7f",
};

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    s_ ^= s_ << 13;
    s_ ^= s_ >> 7;
    s_ ^= s_ << 17;
    return s_;
  }
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(Next() % n); }

 private:
  uint64_t s_;
};

void Mutate(std::string* in, const std::vector<std::string>& corpus, Rng* rng) {
  const int rounds = 1 + static_cast<int>(rng->Below(4));
  for (int r = 0; r < rounds; ++r) {
    const size_t at = rng->Below(in->size() + 1);
    switch (rng->Below(8)) {
      case 0:  // flip a bit
        if (!in->empty()) (*in)[rng->Below(in->size())] ^= static_cast<char>(1u << rng->Below(8));
        break;
      case 1:  // set a byte
        if (!in->empty()) (*in)[rng->Below(in->size())] = static_cast<char>(rng->Next());
        break;
      case 2: {  // insert a dictionary token
        const char* t = kDictionary[rng->Below(std::size(kDictionary))];
        in->insert(at, t[0] == '\0' ? std::string(1, '\0') : std::string(t));
        break;
      }
      case 3:  // delete a range
        in->erase(at, rng->Below(16));
        break;
      case 4:  // duplicate a range
        if (at < in->size()) in->insert(at, in->substr(at, rng->Below(32)));
        break;
      case 5: {  // splice from another seed
        const std::string& other = corpus[rng->Below(corpus.size())];
        const size_t from = rng->Below(other.size());
        in->insert(at, other.substr(from, rng->Below(64)));
        break;
      }
      case 6:  // truncate
        in->resize(at);
        break;
      default:  // change the mode or split seed
        if (in->size() >= 2) (*in)[rng->Below(2)] = static_cast<char>(rng->Next());
        break;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  constexpr auto kTimeBudget = std::chrono::seconds(4);
  constexpr uint64_t kMaxMutations = 2000000;
  const auto start = std::chrono::steady_clock::now();
  uint64_t execs = 0;

  for (int i = 1; i < argc; ++i) {
    std::ifstream f(argv[i], std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++execs;
  }
  const std::vector<std::string> corpus = SeedCorpus();
  for (const std::string& s : corpus) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    ++execs;
  }
  const uint64_t seed_execs = execs;
  Rng rng(0x10c05f022ull);
  uint64_t mutations = 0;
  while (mutations < kMaxMutations) {
    if ((mutations & 255) == 0 && std::chrono::steady_clock::now() - start >= kTimeBudget) break;
    std::string input = corpus[rng.Below(corpus.size())];
    Mutate(&input, corpus, &rng);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    ++mutations;
    ++execs;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("http_parser_fuzz: %llu execs (%llu seeds, %llu mutations) in %.2f s\n",
              static_cast<unsigned long long>(execs), static_cast<unsigned long long>(seed_execs),
              static_cast<unsigned long long>(mutations), seconds);
  return 0;
}
