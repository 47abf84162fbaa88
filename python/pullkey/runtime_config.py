"""``pullkey runtime-config``: the runtime side of ``mirrors`` (docs/mirrors.md §3), written from the
same rules the exec answer follows, so the runtime and pullkey cannot disagree about mirrors.

- containerd: one ``hosts.toml`` per mirrored registry under the ``config_path`` directory
  (``containerd/containerd core/remotes/docker/config/hosts.go``: a directory named after the host,
  ``[host."URL"]`` tables tried in file order before ``server``; a URL path is used as is with
  ``override_path = true``).
- CRI-O and podman: a ``registries.conf`` drop-in (``containers/image pkg/sysregistriesv2``): a
  ``[[registry]]`` per rule with its ``[[registry.mirror]]`` locations in order, and
  ``credential-helpers`` naming ``pullkey`` (``docker-credential-pullkey``, docs/helpers.md), which
  containers/image asks for each mirror host (docs/mirrors.md §1.2)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

Rules = Sequence[tuple[str, Sequence[str]]]

# containers/image and containerd both resolve docker.io to this host (docs/kubelet.md §a).
_DOCKER_HUB_SERVER = "https://registry-1.docker.io"


def _toml_str(text: str) -> str:
    return json.dumps(text)  # a TOML basic string: the same escapes as JSON for these ASCII names


def _mirror_url(endpoint: str) -> tuple[str, bool]:
    """The ``[host."URL"]`` of an endpoint, and whether it needs ``override_path``."""
    host, _, prefix = endpoint.partition("/")
    if prefix:
        return f"https://{host}/v2/{prefix}", True
    return f"https://{host}", False


def containerd_hosts(rules: Rules) -> tuple[dict[str, str], list[str]]:
    """``({registry host: hosts.toml text}, warnings)``; glob registries cannot be written (containerd
    looks a directory up by the exact host; only ``_default`` applies to every host)."""
    files: dict[str, str] = {}
    warnings: list[str] = []
    for registry, endpoints in rules:
        if "*" in registry:
            warnings.append(f"{registry}: containerd has no host globs; write its hosts.toml per host")
            continue
        if registry in files:
            continue  # the first matching rule wins, as in the exec answer
        server = _DOCKER_HUB_SERVER if registry == "docker.io" else f"https://{registry}"
        lines = [
            "# Written by `pullkey runtime-config containerd` from pullkey's mirrors (docs/mirrors.md).",
            f"server = {_toml_str(server)}",
        ]
        for endpoint in endpoints:
            url, override = _mirror_url(endpoint)
            lines += ["", f"[host.{_toml_str(url)}]", '  capabilities = ["pull", "resolve"]']
            if override:
                lines.append("  override_path = true")
        files[registry] = "\n".join(lines) + "\n"
    return files, warnings


def registries_conf(rules: Rules, helper: str = "pullkey") -> str:
    """A ``registries.conf`` drop-in: the mirrors of each rule, in order, and the credential helpers."""
    lines = [
        "# Written by `pullkey runtime-config crio` from pullkey's mirrors (docs/mirrors.md).",
        f"credential-helpers = [{_toml_str('containers-auth.json')}, {_toml_str(helper)}]",
    ]
    seen: set[str] = set()
    for registry, endpoints in rules:
        if registry in seen:
            continue
        seen.add(registry)
        lines += ["", "[[registry]]", f"prefix = {_toml_str(registry)}"]
        if "*" not in registry:  # a wildcard prefix takes no location (sysregistriesv2)
            lines.append(f"location = {_toml_str(registry)}")
        for endpoint in endpoints:
            lines += ["", "[[registry.mirror]]", f"location = {_toml_str(endpoint)}"]
    return "\n".join(lines) + "\n"


def write_containerd(rules: Rules, directory: str) -> tuple[list[str], list[str]]:
    """Writes ``DIRECTORY/<registry>/hosts.toml``; ``(paths written, warnings)``."""
    files, warnings = containerd_hosts(rules)
    written = []
    for registry, text in files.items():
        path = os.path.join(directory, registry, "hosts.toml")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _write_atomic(path, text)
        written.append(path)
    return written, warnings


def _write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def write_registries_conf(rules: Rules, path: str) -> None:
    _write_atomic(path, registries_conf(rules))
