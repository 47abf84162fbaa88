"""pullkey's exception hierarchy: every error pullkey raises on purpose is a :class:`PullkeyError`.

Defined in Python and raised from Rust (``rust/py/mod.rs`` imports these classes), so that they pickle,
subclass built-ins and are documented in one place. This module must not import ``pullkey._core``.

Each error carries a stable ``code`` (a short snake_case string, part of the API: scripts and the gRPC
``ItemError.reason`` may rely on it) next to its human-readable message. Messages name the offending
input (a reference, a file, a field path), never a secret value.
"""

from __future__ import annotations


class PullkeyError(Exception):
    """Base class of every error pullkey raises on purpose. ``code`` names the error class."""

    code: str = "error"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class InvalidReference(PullkeyError, ValueError):
    """An image reference that the distribution/reference grammar rejects.

    ``code`` names the grammar rule (``invalid_format``, ``name_contains_uppercase``, ...);
    ``input`` is the offending reference.
    """

    code = "invalid_format"

    def __init__(self, message: str, code: str = "invalid_format", input: str = "") -> None:
        super().__init__(message, code=code)
        self.input = input


class ConfigError(PullkeyError, ValueError):
    """A configuration or credential source that cannot be used (names the file and field, never a value).

    ``path`` is the field path inside the document (``sources[2].path``) or ``""``. ``code``:
    ``invalid_config`` (pullkey's own config or a flag value), ``invalid_docker_config`` (a docker
    config that is not one), ``invalid_auth`` (an ``auth`` that is not base64 of ``user:password``),
    ``invalid_manifest`` (a Secret manifest), ``unreadable_source`` (a configured file that is missing
    or cannot be read).
    """

    code = "invalid_config"

    def __init__(self, message: str, path: str = "", code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.path = path


class InvalidRequest(PullkeyError, ValueError):
    """A kubelet ``CredentialProviderRequest`` (or a gRPC request) that is malformed."""

    code = "invalid_request"


class NotLoaded(PullkeyError):
    """The service has no usable configuration yet."""

    code = "not_loaded"


class TokenError(PullkeyError):
    """A service-account token that proves no identity, or an issuer key set (JWKS) that cannot check one.

    ``code``: ``token_malformed``, ``token_algorithm``, ``token_unknown_key``, ``token_signature``,
    ``token_issuer``, ``token_audience``, ``token_expired``, ``token_not_yet_valid``, ``token_claims``,
    ``invalid_jwks`` or ``token_unverifiable``. The message never quotes the token.
    """

    code = "token_malformed"

    def __init__(self, message: str = "", code: str | None = None) -> None:
        super().__init__(message, code=code)


__all__ = ["ConfigError", "InvalidReference", "InvalidRequest", "NotLoaded", "PullkeyError", "TokenError"]
