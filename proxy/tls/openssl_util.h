// Owning pointers for OpenSSL objects and small helpers shared by the TLS
// code. OpenSSL reports errors on a per-thread queue; every function here
// that fails leaves the queue empty so that the next caller on this thread
// (another connection) does not inherit a stale error.
#ifndef LOCUS_PROXY_TLS_OPENSSL_UTIL_H_
#define LOCUS_PROXY_TLS_OPENSSL_UTIL_H_

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace locus::proxy::tls {

struct BioFree {
  void operator()(BIO* p) const { BIO_free_all(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct EvpPkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct SslCtxFree {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
struct SslFree {
  void operator()(SSL* p) const { SSL_free(p); }
};
struct X509StackFree {
  void operator()(STACK_OF(X509) * p) const { sk_X509_pop_free(p, X509_free); }
};

using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;

// A read-only memory BIO over `text` (which must outlive it).
BioPtr MemoryBio(absl::string_view text);

// The text OpenSSL queued for the last failure on this thread ("" if none),
// and clears the queue.
std::string TakeOpenSslErrors();

// ASN1_TIME as absl::Time; InfinitePast() if it cannot be read.
absl::Time Asn1TimeToTime(const ASN1_TIME* t);

// RFC 2253 form of a name ("CN=www.example.com,O=Example").
std::string NameText(const X509_NAME* name);

// Lower-case hex of `bytes`.
std::string HexLower(const unsigned char* bytes, size_t n);

}  // namespace locus::proxy::tls

#endif  // LOCUS_PROXY_TLS_OPENSSL_UTIL_H_
