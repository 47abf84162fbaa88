"""A real pull-through cache (docs/mirrors.md): Debian's docker-registry in proxy mode in front of an
upstream docker-registry, each with its own users (the mirror: htpasswd; the upstream: token auth,
the only kind a distribution 2.8 proxy can log into, see token_upstream.py). The image is named
after the upstream; skopeo (containers/image, as CRI-O) pulls it through the mirror with the
credentials pullkey answers, and the mirror's log shows the pull. Without pullkey's mirror
credentials the same pull is refused."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .harness import (
    AUTH_REFUSED,
    IMAGE_PATH,
    IMAGE_TAG,
    ExecProvider,
    Registry,
    Skopeo,
    build_oci_layout,
    docker_config,
    exec_plugin,
    pulled_layer_digests,
)
from .token_upstream import TokenRegistry, TokenServer


@dataclass
class MirrorRegistry(Registry):
    """``docker-registry`` as a pull-through cache of ``upstream`` (distribution ``proxy.remoteurl``,
    logging into the upstream with its own user), serving its own htpasswd user to clients."""

    upstream: Registry | None = field(default=None, repr=False)

    def _write_config(self) -> Path:
        path = super()._write_config()
        assert self.upstream is not None
        proxy = [
            "proxy:",
            f"  remoteurl: {json.dumps('http://' + self.upstream.host)}",
            f"  username: {json.dumps(self.upstream.user)}",
            f"  password: {json.dumps(self.upstream.password)}",
            "",
        ]
        path.write_text(path.read_text() + "\n".join(proxy))
        return path


@dataclass(frozen=True)
class Pair:
    upstream: Registry
    mirror: MirrorRegistry
    layer_digest: str


@pytest.fixture
def pair(e2e_tools: dict[str, str], skopeo: Skopeo, tmp_path: Path) -> Iterator[Pair]:
    """The upstream (token auth, user ``dave``, holding team/app:1.0) and its pull-through cache (user ``carol``)."""
    (tmp_path / "upstream").mkdir()
    (tmp_path / "mirror").mkdir()
    password = secrets.token_urlsafe(18)
    tokens = TokenServer(tmp_path / "upstream", {"dave": password})
    upstream = TokenRegistry(
        name="upstream", workdir=tmp_path / "upstream", user="dave", password=password, tokens=tokens
    )
    mirror = MirrorRegistry(
        name="mirror", workdir=tmp_path / "mirror", user="carol", password=secrets.token_urlsafe(18), upstream=upstream
    )
    try:
        upstream.start()
        image = build_oci_layout(tmp_path / "oci" / "layout", label="upstream")
        skopeo.push(image, upstream)
        mirror.start()
        yield Pair(upstream, mirror, image.layer_digest)
    finally:
        mirror.stop()
        upstream.stop()
        tokens.stop()


def _bin_dir() -> str:
    return os.path.dirname(sys.executable)  # pullkey and docker-credential-pullkey are installed beside it


def _skopeo(
    home: Path, registries_conf: Path, env: dict[str, str], args: list[str]
) -> subprocess.CompletedProcess[str]:
    auth = home / "auth.json"
    home.mkdir(parents=True, exist_ok=True)
    auth.write_text("{}")
    full_env = {
        "PATH": _bin_dir() + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "REGISTRY_AUTH_FILE": str(auth),
        "XDG_RUNTIME_DIR": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        **env,
    }
    return subprocess.run(
        ["skopeo", "--insecure-policy", "--registries-conf", str(registries_conf), *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        check=False,
    )


def test_pull_through_cache_with_pullkey_mirror_credentials(pair: Pair, tmp_path: Path) -> None:
    upstream, mirror = pair.upstream, pair.mirror
    assert not mirror.accepts(upstream.user, upstream.password), "the mirror has its own users"
    root = tmp_path / "kubelet"
    root.mkdir()
    (root / "config.json").write_text(docker_config({upstream.host: upstream.cred, mirror.host: mirror.cred}))
    config = tmp_path / "pullkey.yaml"
    config.write_text(
        json.dumps(
            {
                "apiVersion": "pullkey.dev/v1alpha1",
                "kind": "ProviderConfig",
                "rootDir": str(root),
                "mirrors": [{"registry": upstream.host, "endpoints": [mirror.host]}],
            }
        )
    )
    home = tmp_path / "home"
    home.mkdir()
    # The kubelet's side: the mirror's credential first, then the upstream's (docs/mirrors.md §2).
    result = exec_plugin(
        ExecProvider(args=["--config", str(config)], env={}), upstream.repo, kubelet_home=home, kubelet_cwd=tmp_path
    )
    assert result.credentials == [mirror.cred, upstream.cred]
    assert result.cache_key_type == "Image"

    # The runtime's side, from the same config: registries.conf with the mirror and pullkey as helper.
    conf = tmp_path / "registries.conf"
    gen = subprocess.run(
        [os.path.join(_bin_dir(), "pullkey"), "--config", str(config), "runtime-config", "crio", "--output", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert gen.returncode == 0, gen.stderr
    conf.write_text(conf.read_text() + "insecure = true\n")  # plain HTTP on loopback: the mirror table
    text = conf.read_text()
    assert f'location = "{mirror.host}"' in text
    dest = tmp_path / "pulled"
    first = result.credentials[0]  # CRI-O hands the kubelet's credential to the primary only (§1.2)
    pull = _skopeo(
        tmp_path / "skopeo",
        conf,
        {"PULLKEY_CONFIG": str(config)},
        [
            "copy",
            "--retry-times=0",
            "--src-tls-verify=false",
            "--src-creds",
            f"{first.username}:{first.password}",
            f"docker://{upstream.repo}:{IMAGE_TAG}",
            f"oci:{dest}:{IMAGE_TAG}",
        ],
    )
    assert pull.returncode == 0, pull.stderr
    assert pair.layer_digest in pulled_layer_digests(dest)
    log = mirror.stderr_path.read_text(errors="replace")
    served = [
        line
        for line in log.splitlines()
        if f"uri=/v2/{IMAGE_PATH}/manifests/{IMAGE_TAG}" in line and f"auth.user.name={mirror.user}" in line
    ]
    assert served, "the mirror served the pull to its own user"
    assert mirror.password not in log and upstream.password not in log

    # Without pullkey's mirror credentials (no helper): the mirror refuses, and the upstream refuses the
    # mirror's credential the kubelet passed first.
    bare = tmp_path / "bare.conf"
    bare.write_text(text.replace('"pullkey"', '"containers-auth.json"'))
    refused = _skopeo(
        tmp_path / "skopeo2",
        bare,
        {"PULLKEY_CONFIG": str(config)},
        [
            "copy",
            "--retry-times=0",
            "--src-tls-verify=false",
            "--src-creds",
            f"{first.username}:{first.password}",
            f"docker://{upstream.repo}:{IMAGE_TAG}",
            f"oci:{tmp_path / 'refused'}:{IMAGE_TAG}",
        ],
    )
    assert refused.returncode != 0, "pulled without the mirror's credentials"
    assert AUTH_REFUSED.search(refused.stderr), refused.stderr
    assert mirror.password not in refused.stderr and upstream.password not in pull.stderr
