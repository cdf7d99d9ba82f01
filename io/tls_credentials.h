// x509 credentials for TLS channels, loaded from a directory that uses
// QEMU's file names (ca-cert.pem, server-cert.pem, server-key.pem,
// client-cert.pem, client-key.pem), and turned into an OpenSSL 3 context.
#pragma once

#include <memory>
#include <string>

#include "util/error.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace cr16::io {

/// Which side of a TLS connection an endpoint plays.
enum class TlsEndpoint { kClient, kServer };

/// File names inside a credentials directory (the same names QEMU uses).
inline constexpr const char* kTlsCaCertFile = "ca-cert.pem";
inline constexpr const char* kTlsCaCrlFile = "ca-crl.pem";
inline constexpr const char* kTlsServerCertFile = "server-cert.pem";
inline constexpr const char* kTlsServerKeyFile = "server-key.pem";
inline constexpr const char* kTlsClientCertFile = "client-cert.pem";
inline constexpr const char* kTlsClientKeyFile = "client-key.pem";

/// An immutable, shareable set of x509 credentials for one endpoint role.
///
/// What is loaded from the directory:
///  - server: server-cert.pem and server-key.pem are required; ca-cert.pem is
///    required when verify_peer is on (clients must then present a
///    certificate signed by that CA) and ignored otherwise.
///  - client: ca-cert.pem is required when verify_peer is on (the server's
///    certificate is checked against it); client-cert.pem and client-key.pem
///    are optional but must come as a pair; when present they are offered to
///    servers that ask for a client certificate.
/// Whenever the CA is loaded, an optional ca-crl.pem beside it is loaded too
/// and peer certificates it revokes are refused.
/// Only TLS 1.2 and newer are allowed.
class TlsCredentials {
 public:
  /// Loads credentials from DIRECTORY for ENDPOINT. Returns an Error naming
  /// the missing or unreadable file (or the OpenSSL reason) on failure.
  /// Blocks on file reads; call from any thread.
  static Expected<std::shared_ptr<const TlsCredentials>> load_x509(const std::string& directory,
                                                                   TlsEndpoint endpoint,
                                                                   bool verify_peer);

  ~TlsCredentials();
  TlsCredentials(const TlsCredentials&) = delete;
  TlsCredentials& operator=(const TlsCredentials&) = delete;

  TlsEndpoint endpoint() const { return endpoint_; }
  bool verify_peer() const { return verify_peer_; }
  const std::string& directory() const { return directory_; }
  /// True when a client certificate was loaded (client endpoint only).
  bool has_client_certificate() const { return has_client_certificate_; }

  /// The OpenSSL context, owned by this object; valid for its lifetime.
  /// Sessions take their own reference with SSL_new.
  SSL_CTX* context() const { return context_; }

 private:
  TlsCredentials(SSL_CTX* context, std::string directory, TlsEndpoint endpoint, bool verify_peer,
                 bool has_client_certificate);

  SSL_CTX* context_;
  std::string directory_;
  TlsEndpoint endpoint_;
  bool verify_peer_;
  bool has_client_certificate_;
};

/// Drains OpenSSL's thread-local error queue into one readable string
/// ("reason; reason"), or FALLBACK when the queue is empty.
std::string tls_take_openssl_errors(const std::string& fallback);

}  // namespace cr16::io
