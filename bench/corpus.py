"""Deterministic, realistic inputs for the benchmarks (image references, docker configs, images).

Everything is generated from a fixed seed, so every run and every contender sees the same inputs.
Credentials are fake by construction (``bench-user-N`` / ``fake-password-N``) and are never printed.
"""

from __future__ import annotations

import base64
import random

SEED = 20261126

_WORDS = [
    "nginx",
    "redis",
    "postgres",
    "python",
    "node",
    "golang",
    "alpine",
    "ubuntu",
    "debian",
    "busybox",
    "mysql",
    "mongo",
    "traefik",
    "envoy",
    "grafana",
    "prometheus",
    "etcd",
    "coredns",
    "pause",
    "kafka",
    "api",
    "web",
    "worker",
    "frontend",
    "backend",
    "gateway",
    "auth",
    "billing",
    "search",
    "ingest",
]
_SEPS = ["-", "_", ".", "__", "--"]
_ORGS = ["bitnami", "library", "grafana", "acme", "team-a", "platform", "data_eng", "ml.ops", "sre", "infra"]
_REGISTRIES = [
    "gcr.io",
    "ghcr.io",
    "quay.io",
    "registry.k8s.io",
    "public.ecr.aws",
    "mcr.microsoft.com",
    "europe-docker.pkg.dev",
    "registry.gitlab.com",
    "harbor.corp.example",
    "artifactory.example.com",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    "myregistry.azurecr.io",
    "registry.example.com",
]
_PORTED = [
    "localhost:5000",
    "registry.internal:8443",
    "10.0.0.12:5000",
    "harbor.lan:443",
    "[::1]:5000",
    "127.0.0.1:32000",
]
_TAGS = [
    "latest",
    "1.25",
    "1.25.3",
    "7.2-alpine",
    "3.12-slim-bookworm",
    "v1.31.0",
    "stable",
    "2026.11.26",
    "sha-3f2a9c1",
    "main",
    "TEST_build.1",
    "16.1.0-debian-12-r5",
]


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _name(rng: random.Random) -> str:
    word = rng.choice(_WORDS)
    if rng.random() < 0.3:
        word += rng.choice(_SEPS) + rng.choice(_WORDS)
    if rng.random() < 0.1:
        word += str(rng.randrange(100))
    return word


def _suffix(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.35:
        return ""
    if r < 0.85:
        return ":" + rng.choice(_TAGS)
    if r < 0.95:
        return "@sha256:" + _hex(rng, 64)
    return ":" + rng.choice(_TAGS) + "@sha256:" + _hex(rng, 64)


_INVALID = [
    "",
    "Nginx",
    "library/Ubuntu",
    "foo//bar",
    "::1/foo",
    "web-",
    "-web",
    "foo:.tag",
    "foo:-bad",
    "foo@sha256:abc",
    "foo@sha256:" + "A" * 64,
    "foo:tag:extra",
    "registry.example.com/",
    "/foo",
    "has space/app",
    "foo:t\u00e9g",
    "a..b",
    "a_-b",
    "[fe80::1%eth0]:5000/x",
    "foo@",
    "foo:",
    "quay.io/Org/App",
    "a" * 64,
    "x" * 300,
]


def references(n: int = 10_000, seed: int = SEED) -> list[str]:
    """~n varied references: hub short names, user/repo, registries (with ports), tags, digests, ~5% invalid."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < n:
        r = rng.random()
        if r < 0.25:
            s = _name(rng)  # Docker Hub official image
        elif r < 0.45:
            s = rng.choice(_ORGS) + "/" + _name(rng)  # user/repo
        elif r < 0.68:
            s = rng.choice(_REGISTRIES) + "/" + rng.choice(_ORGS) + "/" + _name(rng)
        elif r < 0.78:
            s = rng.choice(_PORTED) + "/" + _name(rng)
        elif r < 0.85:
            s = rng.choice(_REGISTRIES) + "/" + "/".join(_name(rng) for _ in range(rng.randint(2, 4)))
        elif r < 0.90:
            s = rng.choice(["docker.io/", "index.docker.io/", "docker.io/library/"]) + _name(rng)
        elif r < 0.95:
            s = rng.choice(_REGISTRIES) + "/" + _name(rng)
        else:
            out.append(rng.choice(_INVALID))
            continue
        out.append(s + _suffix(rng))
    return out


# --- keyring inputs ---------------------------------------------------------------------------------


def _label(rng: random.Random) -> str:
    return rng.choice(_WORDS) + str(rng.randrange(1000))


def keyring_keys(n: int, seed: int = SEED) -> list[str]:
    """n distinct raw docker-config keys, a realistic mix.

    ~45% exact hosts (some written as URLs with a scheme and `/v1/` or `/v2/`), ~15% hosts with ports,
    ~20% path-scoped keys, ~20% globs (`*.x.registry.example`, `app*.x.example.org`, `x.*.example.net`),
    plus `index.docker.io` and `docker.io` whenever n > 2.
    """
    rng = random.Random(seed + n)
    keys: list[str] = []
    seen: set[str] = set()
    if n > 2:
        keys += ["https://index.docker.io/v1/", "docker.io"]
        seen.update(keys)
    while len(keys) < n:
        r = rng.random()
        host = f"{_label(rng)}.{rng.choice(['corp', 'eu', 'us', 'ci', 'prod'])}{rng.randrange(100)}.example.com"
        if r < 0.35:
            key = host
        elif r < 0.45:
            key = rng.choice(["https://", "http://"]) + host + rng.choice(["", "/", "/v1/", "/v2/"])
        elif r < 0.60:
            key = host + ":" + str(rng.choice([443, 5000, 8443, 30000 + rng.randrange(1000)]))
        elif r < 0.80:
            key = host + "/" + _label(rng) + rng.choice(["", "/", "/" + _label(rng)])
        elif r < 0.88:
            key = f"*.{_label(rng)}.registry.example"
        elif r < 0.94:
            key = f"app*.{_label(rng)}.example.org"
        else:
            key = f"{_label(rng)}.*.example.net"
        if key not in seen:
            seen.add(key)
            keys.append(key)
    return keys


def docker_config(keys: list[str]) -> dict:
    """A config.json object with one fake credential per key (`auth` = base64 of user:password)."""
    auths = {}
    for i, key in enumerate(keys):
        token = base64.b64encode(f"bench-user-{i}:fake-password-{i}".encode()).decode()
        auths[key] = {"auth": token}
    return {"auths": auths}


def _host_path_of(key: str) -> tuple[str, str]:
    """(host[:port], path) a key matches, with globs filled in (mirrors the key normalisation of
    docs/kubelet.md §c.1 for the shapes the generator emits)."""
    for scheme in ("https://", "http://"):
        if key.startswith(scheme):
            key = key[len(scheme) :]
    host, _, path = key.partition("/")
    if path.startswith(("v1/", "v2/")) or path in ("v1", "v2"):
        path = path[3:]
    host = host.replace("app*", "app7").replace("*", "eu")
    return host, path.rstrip("/")


def images(keys: list[str], count: int, *, miss_ratio: float = 0.2, seed: int = SEED) -> list[str]:
    """`count` normalised repositories (what the kubelet looks up): hits on the keys' hosts and misses."""
    rng = random.Random(seed ^ len(keys))
    out = []
    for _ in range(count):
        if rng.random() < miss_ratio:
            out.append(
                rng.choice(
                    [
                        f"unknown{rng.randrange(10_000)}.example.invalid/team/app",
                        f"docker.io/library/{rng.choice(_WORDS)}",  # Docker Hub: a `docker.io` key or the fallback
                        f"ghcr.io/{rng.choice(_ORGS)}/{rng.choice(_WORDS)}",
                        f"other.example.com:5000/{rng.choice(_WORDS)}",
                    ]
                )
            )
            continue
        host, path = _host_path_of(rng.choice(keys))
        if host in ("docker.io", "index.docker.io"):
            out.append(f"docker.io/library/{rng.choice(_WORDS)}")  # the normalised Docker Hub form
            continue
        repo = (path + "/" if path else "") + rng.choice(_WORDS)
        out.append(f"{host}/{repo}")
    return out
