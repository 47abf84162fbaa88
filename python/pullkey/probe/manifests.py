"""The images a set of Kubernetes manifests would make the kubelet pull.

Reads YAML or JSON (one or many ``---`` documents per file; ``-`` is standard input) and walks the
workload kinds to their pod spec: ``Pod`` (``spec``), ``PodTemplate`` (``template.spec``),
``Deployment``, ``StatefulSet``, ``DaemonSet``, ``ReplicaSet``, ``ReplicationController`` and
``Job`` (``spec.template.spec``), ``CronJob`` (``spec.jobTemplate.spec.template.spec``), and the
``items`` of a ``List`` (or any ``*List`` kind, as ``kubectl get -o yaml`` prints). In each pod spec:
``initContainers``, ``containers`` and ``ephemeralContainers``, in the order the kubelet starts them.
Other kinds (Services, ConfigMaps...) hold no image the kubelet pulls and are skipped.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from pullkey.errors import PullkeyError

MAX_MANIFEST_BYTES = 16 << 20  # per file (or standard input)
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

_TEMPLATE_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"})
_CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")


class ManifestError(PullkeyError, ValueError):
    """A manifest file that cannot be read or is not YAML/JSON (names the file, never its content)."""


@dataclass(frozen=True)
class FoundImage:
    """One container image and where it was found (``deploy.yaml: Deployment/web initContainers[0] (migrate)``)."""

    image: str
    origin: str


def _pod_spec(doc: dict[str, Any]) -> Any:
    kind = doc.get("kind")
    if kind == "Pod":
        return doc.get("spec")
    if kind == "PodTemplate":
        return _get(doc, "template", "spec")
    if kind in _TEMPLATE_KINDS:
        return _get(doc, "spec", "template", "spec")
    if kind == "CronJob":
        return _get(doc, "spec", "jobTemplate", "spec", "template", "spec")
    return None


def _get(doc: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(name)
    return doc


def _label(doc: dict[str, Any]) -> str:
    name = _get(doc, "metadata", "name")
    namespace = _get(doc, "metadata", "namespace")
    label = f"{doc.get('kind')}/{name if isinstance(name, str) else '?'}"
    return f"{namespace}/{label}" if isinstance(namespace, str) and namespace else label


def images_in(doc: object, where: str, warnings: list[str] | None = None) -> Iterator[FoundImage]:
    """The images of one parsed document (a workload, a ``List``, or something without images)."""
    if not isinstance(doc, dict):
        return
    kind = doc.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list):
        for i, item in enumerate(doc["items"]):
            yield from images_in(item, f"{where} items[{i}]", warnings)
        return
    spec = _pod_spec(doc)
    if not isinstance(spec, dict):
        return
    label = _label(doc)
    for fname in _CONTAINER_FIELDS:
        containers = spec.get(fname)
        if not isinstance(containers, list):
            continue
        for i, c in enumerate(containers):
            if not isinstance(c, dict):
                continue
            cname = c.get("name")
            at = f"{where}: {label} {fname}[{i}]" + (f" ({cname})" if isinstance(cname, str) else "")
            image = c.get("image")
            if isinstance(image, str) and image.strip():
                yield FoundImage(image.strip(), at)
            elif warnings is not None:
                warnings.append(f"{at}: no image")


def _load_all(data: bytes, name: str) -> list[object]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return list(yaml.load_all(data, Loader=loader))  # a safe loader (C if built)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(e, "problem", None) or "not YAML or JSON"
        raise ManifestError(f"{name}: {problem}{at}") from None


def _read(path: str, stdin: BinaryIO | None) -> tuple[str, bytes]:
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        data = stream.read(MAX_MANIFEST_BYTES + 1)
        name = "<stdin>"
    else:
        name = path
        try:
            with open(path, "rb") as f:
                data = f.read(MAX_MANIFEST_BYTES + 1)
        except OSError as e:
            raise ManifestError(f"{path}: {e.strerror or e}") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"{name}: larger than {MAX_MANIFEST_BYTES >> 20} MiB")
    return name, data


def images_from_bytes(data: bytes, name: str, warnings: list[str] | None = None) -> list[FoundImage]:
    """The images of every document in one YAML or JSON text."""
    found: list[FoundImage] = []
    docs = _load_all(data, name)
    for n, doc in enumerate(docs):
        where = name if len(docs) == 1 else f"{name}#{n + 1}"
        found.extend(images_in(doc, where, warnings))
    return found


def _expand(paths: Sequence[str]) -> list[str]:
    """A directory stands for its ``.yaml``, ``.yml`` and ``.json`` files, sorted, not recursively
    (as ``kubectl apply -f DIR`` reads it)."""
    out: list[str] = []
    for path in paths:
        if path != "-" and os.path.isdir(path):
            names = sorted(n for n in os.listdir(path) if n.endswith(MANIFEST_SUFFIXES))
            out.extend(p for p in (os.path.join(path, n) for n in names) if not os.path.isdir(p))
        else:
            out.append(path)
    return out


def images_from_files(
    paths: Sequence[str], *, stdin: BinaryIO | None = None, warnings: list[str] | None = None
) -> list[FoundImage]:
    """The images of every manifest file (a directory: its manifest files; ``-``: standard input,
    read once), in order."""
    found: list[FoundImage] = []
    read_stdin = False
    for path in _expand(paths):
        if path == "-":
            if read_stdin:
                continue
            read_stdin = True
        name, data = _read(path, stdin)
        found.extend(images_from_bytes(data, name, warnings))
    return found


def group(found: Iterable[FoundImage]) -> dict[str, list[str]]:
    """Image -> every place it appears, images in first-seen order."""
    out: dict[str, list[str]] = {}
    for f in found:
        out.setdefault(f.image, []).append(f.origin)
    return out
