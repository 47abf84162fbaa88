"""TLS material that follows its files: a rotated certificate, key or client CA is picked up by the next
handshake without a restart (the daemon promises TLS/mTLS with certificate reload for any TCP listener:
docs/ecosystem.md §4)."""

from __future__ import annotations

import logging
import ssl

import grpc

from pullkey.server.listen import UsageError
from pullkey.server.watch import StatKey, stat_key

log = logging.getLogger("pullkey.grpc")


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise UsageError(f"{what} {path}: {exc.strerror}") from None


class CertReloader:
    """``fetch`` is grpc's certificate-configuration fetcher, called by the core before each handshake: it
    stats the three files and returns a new configuration only when they changed AND the pair loads (a
    half-written rotation keeps the last good configuration until the files settle)."""

    def __init__(self, cert: str, key: str, client_ca: str | None) -> None:
        self.cert, self.key, self.client_ca = cert, key, client_ca
        self._seen = self._signature()
        initial = self._configuration()
        if initial is None:
            raise UsageError(f"--tls-cert {cert} and --tls-key {key} do not form a usable certificate and key")
        self.initial = initial

    def credentials(self) -> grpc.ServerCredentials:
        """Server credentials that reload; client certificates required when a client CA is given (mTLS)."""
        return grpc.dynamic_ssl_server_credentials(
            self.initial,
            self.fetch,  # type: ignore[arg-type]  # grpc accepts None ("keep the current one"); the stub does not say so
            require_client_authentication=self.client_ca is not None,
        )

    def _signature(self) -> tuple[StatKey, ...]:
        return tuple(stat_key(p) if p else None for p in (self.cert, self.key, self.client_ca))

    def _configuration(self) -> grpc.ServerCertificateConfiguration | None:
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(self.cert, self.key)  # pair check
        except (OSError, ssl.SSLError, ValueError):
            return None
        ca = _read(self.client_ca, "--tls-client-ca") if self.client_ca else None
        return grpc.ssl_server_certificate_configuration(
            [(_read(self.key, "--tls-key"), _read(self.cert, "--tls-cert"))], root_certificates=ca
        )

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """None = keep the current configuration (grpc's fetcher protocol)."""
        try:
            signature = self._signature()
            if signature == self._seen:
                return None
            config = self._configuration()
            if config is None:
                log.warning("TLS files changed but do not load yet; keeping the current certificate")
                return None
            self._seen = signature
            log.info("TLS certificate reloaded", extra={"fields": {"cert": self.cert}})
            return config
        except Exception as exc:  # NOTE: never fail a handshake over a reload attempt
            log.error("TLS reload failed", extra={"fields": {"error": type(exc).__name__}})
            return None
