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

from pullkey.probe.client import (
    DEADLINE_EXCEEDED,
    FORBIDDEN,
    INVALID_REFERENCE,
    MANIFEST_UNKNOWN,
    REGISTRY_ERROR,
    TIMEOUT,
    TLS_ERROR,
    UNAUTHORIZED,
    UNREACHABLE,
)
from pullkey.probe.engine import Attempt, CredentialInfo, ImageResult, ProbeOptions, probe
from pullkey.probe.manifests import FoundImage, ManifestError, images_from_bytes, images_from_files

REASONS = (
    UNAUTHORIZED,
    FORBIDDEN,
    MANIFEST_UNKNOWN,
    UNREACHABLE,
    TLS_ERROR,
    TIMEOUT,
    DEADLINE_EXCEEDED,
    REGISTRY_ERROR,
    INVALID_REFERENCE,
)

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
