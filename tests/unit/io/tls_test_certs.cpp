#include "tls_test_certs.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace cr16::io::testing {
namespace {

struct KeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertDeleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using CertPtr = std::unique_ptr<X509, CertDeleter>;

struct Identity {
  KeyPtr key;
  CertPtr cert;
};

enum class Role { kCa, kServer, kClient };

Error openssl_error(const std::string& step) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  const char* reason = code ? ERR_reason_error_string(code) : nullptr;
  return Error("test certificates: " + step + ": " + (reason ? reason : "failed"));
}

bool add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  if (!extension) return false;
  const bool ok = X509_add_ext(cert, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return ok;
}

// Creates a key and a certificate for COMMON_NAME, signed by ISSUER (or
// self-signed when ISSUER is null). Validity is [now + not_before_days,
// now + not_after_days].
Expected<Identity> make_identity(const std::string& common_name, Role role, const Identity* issuer,
                                 long serial, long not_before_days, long not_after_days) {
  Identity identity;
  identity.key.reset(EVP_EC_gen("P-256"));
  if (!identity.key) return openssl_error("generate key for " + common_name);
  identity.cert.reset(X509_new());
  X509* cert = identity.cert.get();
  if (!cert) return openssl_error("allocate certificate");
  X509_set_version(cert, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  const long day = 24L * 60 * 60;
  X509_gmtime_adj(X509_getm_notBefore(cert), not_before_days * day);
  X509_gmtime_adj(X509_getm_notAfter(cert), not_after_days * day);
  X509_set_pubkey(cert, identity.key.get());
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("cr16-system tests"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509* issuer_cert = issuer ? issuer->cert.get() : cert;
  EVP_PKEY* issuer_key = issuer ? issuer->key.get() : identity.key.get();
  X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));

  bool ok = true;
  switch (role) {
    case Role::kCa:
      ok = add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE") &&
           add_extension(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign") &&
           add_extension(cert, issuer_cert, NID_subject_key_identifier, "hash");
      break;
    case Role::kServer:
      ok = add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE") &&
           add_extension(cert, issuer_cert, NID_key_usage, "critical,digitalSignature") &&
           add_extension(cert, issuer_cert, NID_ext_key_usage, "serverAuth") &&
           add_extension(cert, issuer_cert, NID_subject_alt_name,
                         "DNS:localhost,IP:127.0.0.1,IP:::1");
      break;
    case Role::kClient:
      ok = add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE") &&
           add_extension(cert, issuer_cert, NID_key_usage, "critical,digitalSignature") &&
           add_extension(cert, issuer_cert, NID_ext_key_usage, "clientAuth");
      break;
  }
  if (!ok) return openssl_error("add extensions to " + common_name);
  if (X509_sign(cert, issuer_key, EVP_sha256()) == 0) return openssl_error("sign " + common_name);
  return identity;
}

Error write_certificate(const std::string& path, X509* cert) {
  FILE* file = std::fopen(path.c_str(), "w");
  if (!file) return Error::from_errno("test certificates: " + path, errno);
  const bool ok = PEM_write_X509(file, cert) == 1;
  std::fclose(file);
  return ok ? Error() : openssl_error("write " + path);
}

Error write_key(const std::string& path, EVP_PKEY* key) {
  FILE* file = std::fopen(path.c_str(), "w");
  if (!file) return Error::from_errno("test certificates: " + path, errno);
  const bool ok = PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::fclose(file);
  return ok ? Error() : openssl_error("write " + path);
}

// Writes a CRL issued by CA that revokes the certificate with SERIAL.
Error write_crl(const std::string& path, const Identity& ca, long serial) {
  X509_CRL* crl = X509_CRL_new();
  X509_REVOKED* revoked = X509_REVOKED_new();
  ASN1_TIME* now = X509_gmtime_adj(nullptr, 0);
  ASN1_TIME* next = X509_gmtime_adj(nullptr, 30L * 24 * 60 * 60);
  ASN1_INTEGER* number = ASN1_INTEGER_new();
  bool ok = crl && revoked && now && next && number && X509_CRL_set_version(crl, 1) == 1 &&
            X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca.cert.get())) == 1 &&
            X509_CRL_set1_lastUpdate(crl, now) == 1 && X509_CRL_set1_nextUpdate(crl, next) == 1 &&
            ASN1_INTEGER_set(number, serial) == 1 &&
            X509_REVOKED_set_serialNumber(revoked, number) == 1 &&
            X509_REVOKED_set_revocationDate(revoked, now) == 1;
  if (ok) {
    ok = X509_CRL_add0_revoked(crl, revoked) == 1;
    if (ok) revoked = nullptr;  // owned by the CRL now
  }
  ok = ok && X509_CRL_sort(crl) == 1 && X509_CRL_sign(crl, ca.key.get(), EVP_sha256()) != 0;
  FILE* file = ok ? std::fopen(path.c_str(), "w") : nullptr;
  if (file) {
    ok = PEM_write_X509_CRL(file, crl) == 1;
    std::fclose(file);
  } else {
    ok = false;
  }
  X509_REVOKED_free(revoked);
  X509_CRL_free(crl);
  ASN1_TIME_free(now);
  ASN1_TIME_free(next);
  ASN1_INTEGER_free(number);
  return ok ? Error() : openssl_error("write CRL " + path);
}

// Writes one credentials directory: the CA certificate plus, when IDENTITY
// is given, "<prefix>-cert.pem" and "<prefix>-key.pem".
Error write_directory(const std::string& directory, const Identity& ca, const Identity* identity,
                      const char* prefix) {
  if (mkdir(directory.c_str(), 0700) != 0) {
    return Error::from_errno("test certificates: mkdir " + directory, errno);
  }
  if (Error error = write_certificate(directory + "/ca-cert.pem", ca.cert.get()); !error.ok())
    return error;
  if (!identity) return Error();
  const std::string base = directory + "/" + prefix;
  if (Error error = write_certificate(base + "-cert.pem", identity->cert.get()); !error.ok())
    return error;
  return write_key(base + "-key.pem", identity->key.get());
}

Error generate_into(const std::string& root) {
  auto ca = make_identity("cr16 test CA", Role::kCa, nullptr, 1, -1, 30);
  if (!ca) return ca.error();
  auto other_ca = make_identity("cr16 other CA", Role::kCa, nullptr, 2, -1, 30);
  if (!other_ca) return other_ca.error();
  auto server = make_identity("localhost", Role::kServer, &*ca, 10, -1, 30);
  if (!server) return server.error();
  auto client = make_identity("cr16 test client", Role::kClient, &*ca, 11, -1, 30);
  if (!client) return client.error();
  auto expired = make_identity("localhost", Role::kServer, &*ca, 12, -10, -1);
  if (!expired) return expired.error();
  auto other_client = make_identity("cr16 other client", Role::kClient, &*other_ca, 20, -1, 30);
  if (!other_client) return other_client.error();
  auto other_server = make_identity("localhost", Role::kServer, &*other_ca, 21, -1, 30);
  if (!other_server) return other_server.error();
  constexpr long kRevokedSerial = 13;
  auto revoked = make_identity("cr16 revoked client", Role::kClient, &*ca, kRevokedSerial, -1, 30);
  if (!revoked) return revoked.error();

  if (Error e = write_directory(root + "/server", *ca, &*server, "server"); !e.ok()) return e;
  if (Error e = write_directory(root + "/client", *ca, &*client, "client"); !e.ok()) return e;
  if (Error e = write_directory(root + "/client-no-cert", *ca, nullptr, "client"); !e.ok())
    return e;
  if (Error e = write_directory(root + "/client-wrong-ca", *other_ca, &*other_client, "client");
      !e.ok()) {
    return e;
  }
  if (Error e = write_directory(root + "/server-expired", *ca, &*expired, "server"); !e.ok())
    return e;
  if (Error e = write_directory(root + "/client-revoked", *ca, &*revoked, "client"); !e.ok())
    return e;
  if (Error e = write_directory(root + "/server-with-crl", *ca, &*server, "server"); !e.ok())
    return e;
  if (Error e = write_crl(root + "/server-with-crl/ca-crl.pem", *ca, kRevokedSerial); !e.ok())
    return e;
  return write_directory(root + "/server-wrong-ca", *other_ca, &*other_server, "server");
}

}  // namespace

Expected<TlsTestCertificates> TlsTestCertificates::create() {
  std::string pattern = (std::filesystem::temp_directory_path() / "cr16-tls-XXXXXX").string();
  if (!mkdtemp(pattern.data())) return Error::from_errno("test certificates: mkdtemp", errno);
  TlsTestCertificates certificates(pattern);
  if (Error error = generate_into(pattern); !error.ok())
    return error;  // destructor removes the tree
  return certificates;
}

TlsTestCertificates::TlsTestCertificates(TlsTestCertificates&& other) noexcept
    : root_(std::move(other.root_)) {
  other.root_.clear();
}

TlsTestCertificates::~TlsTestCertificates() {
  if (root_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(root_, ignored);
}

}  // namespace cr16::io::testing
