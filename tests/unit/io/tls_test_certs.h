// Test-time x509 material for the TLS tests, generated with OpenSSL's API
// into a fresh temporary directory (nothing is committed, nothing fetched).
#pragma once

#include <string>

#include "util/error.h"

namespace cr16::io::testing {

/// A temporary tree of credentials directories laid out with QEMU's file
/// names, removed again by the destructor. Keys are EC P-256, certificates
/// are SHA-256 signed, server certificates name "localhost" and 127.0.0.1.
///
/// Directories (each a complete credentials directory):
///  - server_dir():          CA + valid server certificate and key
///  - client_dir():          CA + valid client certificate and key
///  - client_no_cert_dir():  CA only (a client without a certificate)
///  - client_wrong_ca_dir(): a different CA + a client certificate from it
///  - server_expired_dir():  CA + a server certificate that expired yesterday
///  - server_wrong_ca_dir(): a server certificate issued by the other CA
///  - server_with_crl_dir(): server_dir() plus ca-crl.pem revoking the
///                           certificate in client_revoked_dir()
///  - client_revoked_dir():  CA + a client certificate the CRL revokes
class TlsTestCertificates {
 public:
  /// Generates everything (a few milliseconds). Returns an Error naming the
  /// OpenSSL or filesystem step that failed.
  static Expected<TlsTestCertificates> create();

  TlsTestCertificates(TlsTestCertificates&& other) noexcept;
  TlsTestCertificates& operator=(TlsTestCertificates&&) = delete;
  TlsTestCertificates(const TlsTestCertificates&) = delete;
  ~TlsTestCertificates();

  const std::string& root() const { return root_; }
  std::string server_dir() const { return root_ + "/server"; }
  std::string client_dir() const { return root_ + "/client"; }
  std::string client_no_cert_dir() const { return root_ + "/client-no-cert"; }
  std::string client_wrong_ca_dir() const { return root_ + "/client-wrong-ca"; }
  std::string server_expired_dir() const { return root_ + "/server-expired"; }
  std::string server_wrong_ca_dir() const { return root_ + "/server-wrong-ca"; }
  std::string server_with_crl_dir() const { return root_ + "/server-with-crl"; }
  std::string client_revoked_dir() const { return root_ + "/client-revoked"; }

 private:
  explicit TlsTestCertificates(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace cr16::io::testing
