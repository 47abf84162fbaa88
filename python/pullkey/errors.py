"""pullkey's exception hierarchy.

Defined in Python and raised from Rust (``py.rs`` imports these classes), so that they pickle, subclass
built-ins and are documented in one place. This module must not import ``pullkey._core``.

Messages name the offending input (a reference, a file, a field path), never a secret value.
"""

from __future__ import annotations


class PullkeyError(Exception):
    """Base class of every error pullkey raises on purpose."""


class InvalidReference(PullkeyError, ValueError):
    """An image reference that the distribution/reference grammar rejects.

    ``code`` names the error class (``invalid_format``, ``name_contains_uppercase``, ...);
    ``input`` is the offending reference.
    """

    def __init__(self, message: str, code: str = "invalid_format", input: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.input = input


class ConfigError(PullkeyError, ValueError):
    """A configuration or credential source that cannot be used (names the file and field, never a value).

    ``path`` is the field path inside the document (``sources[2].path``) or ``""``.
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class InvalidRequest(PullkeyError, ValueError):
    """A kubelet ``CredentialProviderRequest`` (or a gRPC request) that is malformed."""


class NotLoaded(PullkeyError):
    """The service has no usable configuration yet."""


__all__ = ["ConfigError", "InvalidReference", "InvalidRequest", "NotLoaded", "PullkeyError"]
