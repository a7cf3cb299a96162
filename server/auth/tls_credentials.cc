#include "server/auth/tls_credentials.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "openssl/bio.h"
#include "openssl/err.h"
#include "openssl/evp.h"
#include "openssl/pem.h"
#include "openssl/x509.h"

namespace sluice::auth {
namespace {

absl::Status FileError(absl::string_view key, absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(key, ": ", path, ": ", what));
}

// Opens `path` for OpenSSL's PEM readers.
absl::StatusOr<BIO*> OpenPem(absl::string_view key, const std::string& path) {
  if (std::FILE* probe = std::fopen(path.c_str(), "rb"); probe == nullptr) {
    return FileError(key, path, std::strerror(errno));
  } else {
    std::fclose(probe);
  }
  BIO* bio = BIO_new_file(path.c_str(), "r");
  if (bio == nullptr) return FileError(key, path, "cannot be opened");
  return bio;
}

// The first certificate of `path`; the caller frees it.
absl::StatusOr<X509*> ReadCertificate(absl::string_view key, const std::string& path) {
  absl::StatusOr<BIO*> bio = OpenPem(key, path);
  if (!bio.ok()) return bio.status();
  X509* certificate = PEM_read_bio_X509(*bio, nullptr, nullptr, nullptr);
  BIO_free(*bio);
  ERR_clear_error();
  if (certificate == nullptr) return FileError(key, path, "holds no PEM certificate");
  return certificate;
}

absl::Status CheckFiles(const config::TlsConfig& tls, absl::string_view key) {
  const std::string cert_key = absl::StrCat(key, ".cert_file");
  const std::string key_key = absl::StrCat(key, ".key_file");
  absl::StatusOr<X509*> certificate = ReadCertificate(cert_key, tls.cert_file);
  if (!certificate.ok()) return certificate.status();
  absl::StatusOr<BIO*> bio = OpenPem(key_key, tls.key_file);
  if (!bio.ok()) {
    X509_free(*certificate);
    return bio.status();
  }
  EVP_PKEY* private_key = PEM_read_bio_PrivateKey(*bio, nullptr, nullptr, nullptr);
  BIO_free(*bio);
  ERR_clear_error();
  absl::Status status;
  if (private_key == nullptr) {
    status = FileError(key_key, tls.key_file, "holds no PEM private key (or it is encrypted)");
  } else if (X509_check_private_key(*certificate, private_key) != 1) {
    status = FileError(key_key, tls.key_file,
                       absl::StrCat("does not match the certificate of ", cert_key));
  }
  ERR_clear_error();
  EVP_PKEY_free(private_key);
  X509_free(*certificate);
  if (!status.ok() || tls.client_ca_file.empty()) return status;
  absl::StatusOr<X509*> ca =
      ReadCertificate(absl::StrCat(key, ".client_ca_file"), tls.client_ca_file);
  if (!ca.ok()) return ca.status();
  X509_free(*ca);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const std::optional<config::TlsConfig>& tls, absl::string_view key) {
  if (!tls.has_value()) return grpc::InsecureServerCredentials();
  if (absl::Status checked = CheckFiles(*tls, key); !checked.ok()) return checked;
  const auto refresh_seconds =
      static_cast<unsigned int>(absl::ToInt64Seconds(tls->refresh_interval));
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls->key_file, tls->cert_file, tls->client_ca_file, refresh_seconds);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (tls->client_ca_file.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    options.set_cert_request_type(tls->requires_client_cert()
                                      ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                      : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::experimental::TlsServerCredentials(options);
  if (credentials == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(key, ": gRPC refused the TLS settings"));
  }
  return credentials;
}

}  // namespace sluice::auth
