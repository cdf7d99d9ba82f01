#include "io/tls_credentials.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/stat.h>

#include <cerrno>

namespace cr16::io {
namespace {

std::string join_path(const std::string& directory, const char* name) {
  if (directory.empty() || directory.back() == '/') return directory + name;
  return directory + "/" + name;
}

// Ok when PATH names a readable regular file; otherwise an Error naming it.
Error check_readable_file(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return Error::from_errno("TLS credentials: " + path, errno);
  if (!S_ISREG(info.st_mode)) return Error("TLS credentials: " + path + ": not a regular file");
  return Error();
}

bool file_exists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

Error load_certificate_and_key(SSL_CTX* context, const std::string& cert_path,
                               const std::string& key_path) {
  if (Error error = check_readable_file(cert_path); !error.ok()) return error;
  if (Error error = check_readable_file(key_path); !error.ok()) return error;
  if (SSL_CTX_use_certificate_chain_file(context, cert_path.c_str()) != 1) {
    return Error("TLS credentials: cannot load certificate " + cert_path + ": " +
                 tls_take_openssl_errors("unknown OpenSSL error"));
  }
  if (SSL_CTX_use_PrivateKey_file(context, key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Error("TLS credentials: cannot load private key " + key_path + ": " +
                 tls_take_openssl_errors("unknown OpenSSL error"));
  }
  if (SSL_CTX_check_private_key(context) != 1) {
    return Error("TLS credentials: private key " + key_path + " does not match certificate " +
                 cert_path + ": " + tls_take_openssl_errors("key mismatch"));
  }
  return Error();
}

// Loads the CA certificate and, when present, the CA's revocation list.
Error load_ca(SSL_CTX* context, const std::string& directory) {
  const std::string ca_path = join_path(directory, kTlsCaCertFile);
  if (Error error = check_readable_file(ca_path); !error.ok()) return error;
  if (SSL_CTX_load_verify_locations(context, ca_path.c_str(), nullptr) != 1) {
    return Error("TLS credentials: cannot load CA certificate " + ca_path + ": " +
                 tls_take_openssl_errors("unknown OpenSSL error"));
  }
  const std::string crl_path = join_path(directory, kTlsCaCrlFile);
  if (!file_exists(crl_path)) return Error();
  if (Error error = check_readable_file(crl_path); !error.ok()) return error;
  X509_STORE* store = SSL_CTX_get_cert_store(context);
  X509_LOOKUP* lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
  if (!lookup || X509_load_crl_file(lookup, crl_path.c_str(), X509_FILETYPE_PEM) <= 0) {
    return Error("TLS credentials: cannot load CRL " + crl_path + ": " +
                 tls_take_openssl_errors("unknown OpenSSL error"));
  }
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  return Error();
}

struct ContextDeleter {
  void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};

}  // namespace

std::string tls_take_openssl_errors(const std::string& fallback) {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    // ERR_error_string_n gives "error:XXXXXXXX:lib::reason"; keep the reason.
    const char* reason = ERR_reason_error_string(code);
    if (!text.empty()) text += "; ";
    text += reason ? reason : buffer;
  }
  return text.empty() ? fallback : text;
}

TlsCredentials::TlsCredentials(SSL_CTX* context, std::string directory, TlsEndpoint endpoint,
                               bool verify_peer, bool has_client_certificate)
    : context_(context),
      directory_(std::move(directory)),
      endpoint_(endpoint),
      verify_peer_(verify_peer),
      has_client_certificate_(has_client_certificate) {}

TlsCredentials::~TlsCredentials() {
  SSL_CTX_free(context_);
}

Expected<std::shared_ptr<const TlsCredentials>> TlsCredentials::load_x509(
    const std::string& directory, TlsEndpoint endpoint, bool verify_peer) {
  ERR_clear_error();
  const bool server = endpoint == TlsEndpoint::kServer;
  std::unique_ptr<SSL_CTX, ContextDeleter> context(
      SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
  if (!context) {
    return Error("TLS credentials: cannot create context: " +
                 tls_take_openssl_errors("out of memory"));
  }
  SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION);
  // No session resumption: a server would otherwise send TLS 1.3 tickets
  // after the handshake, data the peer must read before its first record.
  SSL_CTX_set_num_tickets(context.get(), 0);
  SSL_CTX_set_session_cache_mode(context.get(), SSL_SESS_CACHE_OFF);
  // Partial writes let a channel hand over whatever fits; the moving buffer
  // is needed because a retried write may come from a different address.
  SSL_CTX_set_mode(context.get(),
                   SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

  bool has_client_certificate = false;
  if (server) {
    if (Error error =
            load_certificate_and_key(context.get(), join_path(directory, kTlsServerCertFile),
                                     join_path(directory, kTlsServerKeyFile));
        !error.ok()) {
      return error;
    }
    if (verify_peer) {
      if (Error error = load_ca(context.get(), directory); !error.ok()) return error;
      SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    } else {
      SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);
    }
  } else {
    const std::string cert_path = join_path(directory, kTlsClientCertFile);
    const std::string key_path = join_path(directory, kTlsClientKeyFile);
    const bool cert_present = file_exists(cert_path);
    const bool key_present = file_exists(key_path);
    if (cert_present != key_present) {
      return Error("TLS credentials: " + (cert_present ? cert_path : key_path) + " exists but " +
                   (cert_present ? key_path : cert_path) + " does not");
    }
    if (cert_present) {
      if (Error error = load_certificate_and_key(context.get(), cert_path, key_path); !error.ok())
        return error;
      has_client_certificate = true;
    }
    if (verify_peer) {
      if (Error error = load_ca(context.get(), directory); !error.ok()) return error;
      SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, nullptr);
    } else {
      SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);
    }
  }
  return std::shared_ptr<const TlsCredentials>(new TlsCredentials(
      context.release(), directory, endpoint, verify_peer, has_client_certificate));
}

}  // namespace cr16::io
