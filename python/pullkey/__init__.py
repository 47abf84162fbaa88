"""pullkey: which registry credentials open this image?

A kubelet image credential provider, a gRPC service and a CLI over one Rust core. The public API:

- :func:`parse_reference`, :func:`parse_references`, :class:`Reference`: image references parsed and
  normalised as distribution/reference does;
- :func:`match_image`: the kubelet's ``URLsMatchStr`` registry pattern matching;
- :class:`Keyring`, :class:`Credential`: the merged keyring and its credentials, with provenance;
- :class:`Resolver`, :class:`Options` (from :mod:`pullkey.service`): the transport-neutral resolver,
  its :class:`Answer` and ``explain`` result (:class:`Explanation`);
- the error classes of :mod:`pullkey.errors`, each with a stable ``code``.

NOTE: this module is imported on the kubelet exec path, so it imports only the Rust core and the
error classes eagerly; the resolver is loaded on first access.
"""

from __future__ import annotations

from pullkey._core import Credential, Keyring, Reference, match_image, parse_reference, parse_references
from pullkey._core import __version__ as __version__
from pullkey.errors import ConfigError, InvalidReference, InvalidRequest, NotLoaded, PullkeyError

# NOTE: not `from typing import TYPE_CHECKING`: importing typing costs the exec path ~10 ms.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from pullkey.service import Answer, Explanation, Options, Resolver, load_keyring

__all__ = [
    "Answer",
    "ConfigError",
    "Credential",
    "Explanation",
    "InvalidReference",
    "InvalidRequest",
    "Keyring",
    "NotLoaded",
    "Options",
    "PullkeyError",
    "Reference",
    "Resolver",
    "__version__",
    "load_keyring",
    "match_image",
    "parse_reference",
    "parse_references",
]


def __getattr__(name: str) -> object:
    if name in ("Answer", "Explanation", "Options", "Resolver", "load_keyring"):
        from pullkey import service

        return getattr(service, name)
    raise AttributeError(f"module 'pullkey' has no attribute {name!r}")
