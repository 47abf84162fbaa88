"""Will this pull succeed? ``pullkey probe`` before a deploy, as a Python API.

The kubelet's credentials for each image (from :class:`pullkey.service.Resolver`, in kubelet order)
are tried against the image's registry as a runtime would before pulling (the Docker Registry HTTP
API v2 / OCI distribution flow: ping, challenge, Basic or Bearer token, ``HEAD`` of the manifest)::

    from pullkey.probe import ProbeOptions, probe
    from pullkey.service import Options, Resolver

    results = probe(["registry.example.com/team/app:1.0"], Resolver(Options(config="pullkey.yaml")),
                    ProbeOptions(timeout=5, deadline=60))
    for r in results:
        print(r.image, r.ok, r.reason, r.digest, r.credential)

:func:`images_from_files` lists the images of Kubernetes manifests. Results never hold a secret.
This package imports ``urllib3``; the kubelet exec path never imports it.
"""

from __future__ import annotations

# NOTE: names are loaded on first use (PEP 562), so ``pullkey.probe.command`` (imported to build the
# CLI's parser) does not import urllib3 for the other commands.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from pullkey.probe.engine import Attempt, CredentialInfo, ImageResult, ProbeOptions, probe
    from pullkey.probe.manifests import FoundImage, ManifestError, images_from_bytes, images_from_files

#: The reasons an image would not pull (``ImageResult.reason``; the JSON report's ``reason``).
REASONS = (
    "unauthorized",  # the registry or its token service refused the credential (or wanted one)
    "forbidden",  # the credential is valid but may not pull this repository
    "manifest_unknown",  # no such tag or digest (or repository)
    "unreachable",  # connection refused, name not resolved, connection closed
    "tls_error",  # certificate not trusted, or not TLS at all
    "timeout",  # no answer within the per-request timeout
    "deadline_exceeded",  # the run's total deadline passed before the image was tried
    "registry_error",  # an answer that is not the registry API (5xx, 429, oversized, malformed)
    "invalid_reference",  # the image reference does not parse
)

_LAZY = {
    "Attempt": "engine",
    "CredentialInfo": "engine",
    "ImageResult": "engine",
    "ProbeOptions": "engine",
    "probe": "engine",
    "FoundImage": "manifests",
    "ManifestError": "manifests",
    "images_from_bytes": "manifests",
    "images_from_files": "manifests",
}

__all__ = [
    "REASONS",
    "Attempt",
    "CredentialInfo",
    "FoundImage",
    "ImageResult",
    "ManifestError",
    "ProbeOptions",
    "images_from_bytes",
    "images_from_files",
    "probe",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pullkey.probe' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"pullkey.probe.{module}"), name)
