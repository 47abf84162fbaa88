"""Real parts for the end-to-end tests: registries, an OCI image, skopeo, and a kubelet stand-in.

Everything here starts real processes (Debian's ``docker-registry``, ``skopeo``, the installed
``pullkey``) and talks to them the way production does. Nothing is mocked. Secrets are never
printed: failures name the registry, user and key, never a password.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import importlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

INSTALL_HINT = "install them with: sudo ci/install-e2e-deps.sh (Debian packages docker-registry, skopeo, apache2-utils)"
TOOLS = {"docker-registry": "docker-registry", "skopeo": "skopeo", "htpasswd": "apache2-utils"}
API_V1 = "credentialprovider.kubelet.k8s.io/v1"
IMAGE_PATH = "team/app"
IMAGE_TAG = "1.0"
# The kubelet kills an exec plugin after one minute (spec/kubelet.md §e.3).
EXEC_TIMEOUT_S = 60
# skopeo's wording for a registry that refused the credentials (HTTP 401 from the distribution
# registry's htpasswd access controller).
AUTH_REFUSED = re.compile(r"unauthorized|authentication required|\b401\b", re.IGNORECASE)


def require_tools() -> dict[str, str]:
    """Absolute paths of the e2e tools; FAIL (never skip) when one is missing."""
    found = {name: shutil.which(name) for name in TOOLS}
    missing = [f"{name} (package {TOOLS[name]})" for name, path in found.items() if path is None]
    if missing:
        pytest.fail(f"e2e tools missing: {', '.join(missing)}; {INSTALL_HINT}", pytrace=False)
    return {name: path for name, path in found.items() if path is not None}


def pullkey_executable() -> str:
    """The installed ``pullkey`` launcher: $PULLKEY_BIN, else the one next to this interpreter, else PATH."""
    override = os.environ.get("PULLKEY_BIN")
    if override:
        return override
    beside = Path(sys.executable).parent / "pullkey"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    on_path = shutil.which("pullkey")
    if on_path is None:
        pytest.fail(
            "the pullkey executable is not installed (run `maturin develop` or `pip install .` in this venv)",
            pytrace=False,
        )
    return on_path


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --------------------------------------------------------------------------------------------------
# Registry


def bcrypt_htpasswd_line(user: str, password: str) -> str:
    """One bcrypt htpasswd entry made by Debian's htpasswd (``-B``), password on stdin (``-i``), not argv."""
    proc = subprocess.run(
        ["htpasswd", "-n", "-i", "-B", user],
        input=password.encode(),
        capture_output=True,
        timeout=30,
        check=False,
    )
    line = proc.stdout.decode().strip()
    if proc.returncode != 0 or not line.startswith(f"{user}:$2"):
        pytest.fail(f"htpasswd -B failed for user {user!r}: {proc.stderr.decode().strip()}", pytrace=False)
    return line


@dataclass(frozen=True)
class Cred:
    """A username/password pair whose repr shows a fingerprint of the password, never the password."""

    username: str
    password: str = field(repr=False)

    def __repr__(self) -> str:
        digest = hashlib.sha256(self.password.encode()).hexdigest()[:10]
        return f"Cred({self.username!r}, password=<sha256 {digest}>)"


@dataclass
class Registry:
    """One ``docker-registry serve`` process on 127.0.0.1 with htpasswd (bcrypt) basic auth, plain HTTP."""

    name: str
    workdir: Path
    user: str
    password: str = field(repr=False)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0

    @property
    def cred(self) -> Cred:
        return Cred(self.user, self.password)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def repo(self) -> str:
        """The image repository as the kubelet sends it to a plugin (no tag)."""
        return f"{self.host}/{IMAGE_PATH}"

    @property
    def htpasswd_path(self) -> Path:
        return self.workdir / "htpasswd"

    @property
    def stderr_path(self) -> Path:
        return self.workdir / "registry.stderr"

    def write_htpasswd(self) -> None:
        """(Re)write the htpasswd file atomically so a running registry sees a whole file."""
        tmp = self.htpasswd_path.with_suffix(".tmp")
        tmp.write_text(bcrypt_htpasswd_line(self.user, self.password) + "\n")
        os.replace(tmp, self.htpasswd_path)

    def _write_config(self) -> Path:
        storage = self.workdir / "storage"
        storage.mkdir(exist_ok=True)
        # distribution v2.8 configuration (YAML); JSON scalars are valid YAML.
        config = "\n".join(
            [
                "version: 0.1",
                "log:",
                "  level: info",
                "  accesslog:",
                "    disabled: true",
                "storage:",
                "  filesystem:",
                f"    rootdirectory: {json.dumps(str(storage))}",
                "http:",
                f"  addr: {json.dumps(self.host)}",
                f"  secret: {json.dumps('e2e-' + self.name)}",
                "auth:",
                "  htpasswd:",
                f"    realm: {json.dumps('pullkey-e2e-' + self.name)}",
                f"    path: {json.dumps(str(self.htpasswd_path))}",
                "",
            ]
        )
        path = self.workdir / "config.yml"
        path.write_text(config)
        return path

    def _stderr_tail(self) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError:
            return "(no stderr captured)"
        return text[-4000:] or "(stderr empty)"

    def start(self) -> None:
        """Start on a free port; wait for ``GET /v2/`` to answer 401; fail loudly with stderr otherwise."""
        if not self.htpasswd_path.exists():
            self.write_htpasswd()
        last_error = ""
        for _attempt in range(3):
            if self.port == 0 or last_error:
                self.port = free_port()
            config = self._write_config()
            with self.stderr_path.open("wb") as err:
                self.proc = subprocess.Popen(
                    ["docker-registry", "serve", str(config)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    cwd=self.workdir,
                )
            last_error = self._wait_ready(timeout_s=20.0)
            if not last_error:
                return
            self.stop()
            if "address already in use" not in self._stderr_tail():
                break
        pytest.fail(
            f"registry {self.name} did not start on {self.host}: {last_error}\n--- docker-registry stderr ---\n"
            f"{self._stderr_tail()}",
            pytrace=False,
        )

    def _wait_ready(self, timeout_s: float) -> str:
        """'' once ``GET /v2/`` answers 401 (auth is on); else why not."""
        deadline = time.monotonic() + timeout_s
        status = "no answer"
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                return f"docker-registry exited with status {self.proc.returncode}"
            code = http_status(f"http://{self.host}/v2/")
            if code == 401:
                return ""
            status = f"GET /v2/ answered {code}" if code else "no answer"
            time.sleep(0.05)
        return f"timed out after {timeout_s:.0f}s ({status}; expected 401)"

    def stop(self) -> None:
        """Terminate and wait (kill after 10 s)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def restart(self) -> None:
        """Stop and start on the same port (data and htpasswd kept)."""
        self.stop()
        self.restarts += 1
        self.start()

    def accepts(self, user: str, password: str) -> bool:
        """True when ``GET /v2/`` with these basic-auth credentials answers 200."""
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return http_status(f"http://{self.host}/v2/", {"Authorization": f"Basic {token}"}) == 200

    def rotate_password(self, new_password: str) -> None:
        """Change the user's password in htpasswd; restart only if the server does not re-read the file."""
        self.password = new_password
        self.write_htpasswd()
        # distribution 2.8.2 (Debian) re-reads htpasswd when its modification time changes;
        # fall back to a restart so the test does not depend on that.
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            if self.accepts(self.user, new_password):
                return
            time.sleep(0.05)
        self.restart()
        if not self.accepts(self.user, new_password):
            pytest.fail(f"registry {self.name} refuses user {self.user!r} after a password change and restart")


def http_status(url: str, headers: dict[str, str] | None = None) -> int:
    """HTTP status of a GET (0 when nothing answered)."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=2) as resp:  # plain http to loopback on purpose
            status: int = resp.status
            return status
    except urllib.error.HTTPError as err:
        return err.code
    except (urllib.error.URLError, OSError):
        return 0


# --------------------------------------------------------------------------------------------------
# OCI image layout built by hand


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class OciImage:
    """An OCI image layout directory holding one tagged image."""

    layout: Path
    tag: str
    manifest_digest: str
    layer_digest: str


def build_oci_layout(directory: Path, label: str, tag: str = IMAGE_TAG) -> OciImage:
    """Write an OCI image layout: one gzip'd tar layer, a config, a manifest, index.json, oci-layout."""
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def put(data: bytes) -> str:
        digest = _sha256(data)
        (blobs / digest.split(":", 1)[1]).write_bytes(data)
        return digest

    payload = f"hello from the {label} registry\n".encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(payload)
        info.mode = 0o644
        info.mtime = 0
        tar.addfile(info, io.BytesIO(payload))
    layer_tar = raw.getvalue()
    layer_gz = gzip.compress(layer_tar, mtime=0)
    layer_digest = put(layer_gz)

    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/hello.txt"]},
        "rootfs": {"type": "layers", "diff_ids": [_sha256(layer_tar)]},
        "history": [{"created_by": f"pullkey e2e ({label})"}],
    }
    config_bytes = json.dumps(config, separators=(",", ":")).encode()
    config_digest = put(config_bytes)

    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": len(config_bytes),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": layer_digest,
                "size": len(layer_gz),
            }
        ],
    }
    manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()
    manifest_digest = put(manifest_bytes)

    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": manifest_digest,
                "size": len(manifest_bytes),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (directory / "index.json").write_text(json.dumps(index))
    (directory / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    return OciImage(directory, tag, manifest_digest, layer_digest)


# --------------------------------------------------------------------------------------------------
# skopeo


@dataclass
class Skopeo:
    """skopeo with an isolated environment: no auth file, no ambient credentials, plain HTTP to loopback."""

    home: Path
    runs: int = 0

    def env(self) -> dict[str, str]:
        auth = self.home / "auth.json"
        if not auth.exists():
            auth.write_text("{}")
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            # An empty auth file: skopeo must not find credentials anywhere but on its command line.
            "REGISTRY_AUTH_FILE": str(auth),
            "XDG_RUNTIME_DIR": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
        }

    def run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        self.runs += 1
        # --insecure-policy: no /etc/containers/policy.json needed; signatures are not the subject here.
        return subprocess.run(
            ["skopeo", "--insecure-policy", *args],
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=60,
            check=False,
        )

    def push(self, image: OciImage, registry: Registry) -> None:
        proc = self.run(
            [
                "copy",
                "--retry-times=0",
                "--dest-tls-verify=false",
                "--dest-creds",
                f"{registry.user}:{registry.password}",
                f"oci:{image.layout}:{image.tag}",
                f"docker://{registry.repo}:{image.tag}",
            ]
        )
        if proc.returncode != 0:
            pytest.fail(f"skopeo copy into registry {registry.name} failed:\n{proc.stderr}", pytrace=False)

    def pull(self, registry: Registry, dest: Path, cred: Cred | None) -> subprocess.CompletedProcess[str]:
        """``skopeo copy`` docker://<registry>/team/app:1.0 to an OCI layout with these creds (None: none)."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        auth = ["--src-no-creds"] if cred is None else ["--src-creds", f"{cred.username}:{cred.password}"]
        return self.run(
            [
                "copy",
                "--retry-times=0",
                "--src-tls-verify=false",
                *auth,
                f"docker://{registry.repo}:{IMAGE_TAG}",
                f"oci:{dest}:{IMAGE_TAG}",
            ]
        )


def pulled_layer_digests(layout: Path) -> set[str]:
    """Digests of the blobs in a pulled OCI layout."""
    blobs = layout / "blobs" / "sha256"
    return {"sha256:" + p.name for p in blobs.iterdir()} if blobs.is_dir() else set()


# --------------------------------------------------------------------------------------------------
# The kubelet's side: exec a plugin, decode strictly, order credentials like its keyring


class ResponseError(AssertionError):
    """The kubelet would reject this plugin response (spec/kubelet.md §e.3)."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ResponseError(f"duplicated field {key!r}")
        out[key] = value
    return out


def _local_strict_decode_response(stdout: bytes, expected_api_version: str) -> dict[str, Any]:
    """Minimal stand-in for the kubelet's strict decode (spec/kubelet.md §e.3/§e.4).

    One JSON value; apiVersion exactly the configured one; kind CredentialProviderResponse;
    unknown or duplicated fields at any depth are errors; cacheKeyType one of Image/Registry/Global;
    cacheDuration a string when present; auth a map key -> {username, password} of strings.
    """
    try:
        doc = json.loads(stdout.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ResponseError(f"response is not one JSON value: {type(err).__name__}") from None
    if not isinstance(doc, dict):
        raise ResponseError("response is not a JSON object")
    if doc.get("apiVersion") != expected_api_version:
        raise ResponseError(f"apiVersion {doc.get('apiVersion')!r} != {expected_api_version!r}")
    if doc.get("kind") != "CredentialProviderResponse":
        raise ResponseError(f"kind {doc.get('kind')!r}")
    unknown = set(doc) - {"kind", "apiVersion", "cacheKeyType", "cacheDuration", "auth"}
    if unknown:
        raise ResponseError(f"unknown fields {sorted(unknown)}")
    if doc.get("cacheKeyType") not in {"Image", "Registry", "Global"}:
        raise ResponseError(f"cacheKeyType {doc.get('cacheKeyType')!r}")
    if doc.get("cacheDuration") is not None and not isinstance(doc["cacheDuration"], str):
        raise ResponseError("cacheDuration is not a Go duration string")
    auth = doc.get("auth") or {}
    if not isinstance(auth, dict):
        raise ResponseError("auth is not a map")
    for key, entry in auth.items():
        if not isinstance(entry, dict) or set(entry) - {"username", "password"}:
            raise ResponseError(f"auth[{key!r}] has unknown fields or is not an object")
        if not all(isinstance(entry.get(f, ""), str) for f in ("username", "password")):
            raise ResponseError(f"auth[{key!r}] username/password are not strings")
    return doc


def _split_host_port(netloc: str) -> tuple[str, str]:
    # Go net.SplitHostPort; on failure the whole host and an empty port (spec/kubelet.md §c.2.1).
    host, sep, port = netloc.rpartition(":")
    if not sep or "]" in port or (host.startswith("[") != host.endswith("]")):
        return netloc, ""
    return host.strip("[]"), port


def urls_match_str(pattern: str, target: str) -> bool:
    """kubelet URLsMatchStr (spec/kubelet.md §c.2): per-label globs, exact port, string-prefix path.

    Minimal: fnmatchcase stands in for Go filepath.Match per label, which is exact for the ``*``-only
    patterns these tests use.
    """
    if not pattern:
        return False
    p = urllib.parse.urlsplit("https://" + pattern)
    t = urllib.parse.urlsplit("https://" + target)
    p_host, p_port = _split_host_port(p.netloc.rpartition("@")[2])
    t_host, t_port = _split_host_port(t.netloc.rpartition("@")[2])
    if p_port != t_port:
        return False
    p_labels, t_labels = p_host.split("."), t_host.split(".")
    if len(p_labels) != len(t_labels):
        return False
    if not t.path.startswith(p.path):
        return False
    return all(fnmatchcase(tl, pl) for pl, tl in zip(p_labels, t_labels, strict=True))


def normalize_key(raw: str) -> str:
    """kubelet BasicDockerKeyring.Add key normalisation (spec/kubelet.md §c.1), minimal."""
    text = raw if raw.startswith(("https://", "http://")) else "https://" + raw
    url = urllib.parse.urlsplit(text)
    host = url.netloc.rpartition("@")[2]
    path = urllib.parse.unquote(url.path)
    if path.startswith(("/v1/", "/v2/")):
        path = path[3:]
    return host if path in ("", "/") else host + path


@dataclass
class BasicKeyring:
    """kubelet BasicDockerKeyring (spec/kubelet.md §c.1, §c.3), minimal: add a response auth map, lookup."""

    creds: dict[str, list[Cred]] = field(default_factory=dict, repr=False)

    def add(self, auth: dict[str, dict[str, str]]) -> None:
        for raw_key, entry in auth.items():
            key = normalize_key(raw_key)
            self.creds.setdefault(key, []).append(Cred(entry.get("username", ""), entry.get("password", "")))

    def lookup(self, image: str) -> list[Cred]:
        # Index in descending Go string order (byte order = code point order); all creds of every
        # matching key, in insertion order. (No Docker Hub fallback: these images have a host.)
        out: list[Cred] = []
        for key in sorted(self.creds, reverse=True):
            if urls_match_str(key, image):
                out.extend(self.creds[key])
        return out


def _load_kubelet_sim() -> ModuleType | None:
    """tests/kubelet_sim.py (another helper's faithful kubelet model) when it is present."""
    for name in ("tests.kubelet_sim", "kubelet_sim"):
        with contextlib.suppress(ModuleNotFoundError):
            return importlib.import_module(name)
    return None


KUBELET_SIM = _load_kubelet_sim()


def strict_decode_response(stdout: bytes, expected_api_version: str) -> dict[str, Any]:
    """The kubelet's strict decode: tests/kubelet_sim.py when available, else the local stand-in.

    Both must accept the response; the returned document is the plain JSON object.
    """
    doc = _local_strict_decode_response(stdout, expected_api_version)
    sim_decode = getattr(KUBELET_SIM, "strict_decode_response", None)
    if sim_decode is not None:
        sim_decode(stdout, expected_api_version)
    return doc


def kubelet_order(doc: dict[str, Any], image: str) -> list[Cred]:
    """Credentials in the order the kubelet tries them: the response auth map in a fresh keyring, looked up."""
    keyring = BasicKeyring()
    keyring.add(doc.get("auth") or {})
    return keyring.lookup(image)


@dataclass(frozen=True)
class ExecProvider:
    """What a CredentialProviderConfig provider entry gives the plugin: args and env (plus the kubelet's env)."""

    args: list[str]
    env: dict[str, str]
    api_version: str = API_V1


@dataclass(frozen=True)
class ExecResult:
    """One plugin run as the kubelet saw it."""

    doc: dict[str, Any] = field(repr=False)
    credentials: list[Cred]
    seconds: float

    def keys(self) -> list[str]:
        """The response's auth keys (no secrets)."""
        return sorted(self.doc.get("auth") or {})


def exec_plugin(provider: ExecProvider, image: str, *, kubelet_home: Path, kubelet_cwd: Path) -> ExecResult:
    """Run the installed pullkey as the kubelet does (spec/kubelet.md §e.3/§e.4) and decode its answer."""
    request = json.dumps(
        {"kind": "CredentialProviderRequest", "apiVersion": provider.api_version, "image": image},
        separators=(",", ":"),
    )
    # The kubelet's own environment, then the provider's `env` entries (the last value wins).
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(kubelet_home), "LANG": "C.UTF-8"}
    env.update(provider.env)
    start = time.monotonic()
    try:
        proc = subprocess.run(
            [pullkey_executable(), *provider.args],
            input=(request + "\n").encode(),
            capture_output=True,
            env=env,
            cwd=kubelet_cwd,
            timeout=EXEC_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"pullkey did not answer within {EXEC_TIMEOUT_S}s (the kubelet would kill it)", pytrace=False)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        # stderr is pullkey's one-line error; it must not hold secrets, so it may be shown.
        pytest.fail(
            f"pullkey exited {proc.returncode} for {image}: {proc.stderr.decode(errors='replace').strip()}",
            pytrace=False,
        )
    doc = strict_decode_response(proc.stdout, provider.api_version)
    return ExecResult(doc, kubelet_order(doc, image), seconds)


@dataclass(frozen=True)
class PullOutcome:
    """Which credential (index in kubelet order) opened the registry, and what each attempt said."""

    opened_with: int | None
    refusals: list[str]


def kubelet_pull(skopeo: Skopeo, registry: Registry, creds: list[Cred], dest: Path) -> PullOutcome:
    """Try each credential in order until one pull succeeds (kubelet image puller with a keyring)."""
    refusals: list[str] = []
    for i, cred in enumerate(creds):
        out = dest / f"try{i}"
        proc = skopeo.pull(registry, out, cred)
        if proc.returncode == 0:
            return PullOutcome(i, refusals)
        refusals.append(proc.stderr)
    return PullOutcome(None, refusals)


def write_atomically(path: Path, text: str) -> None:
    """Write a file the way a config manager should: temp file in the same directory, fsync, rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def docker_config(entries: dict[str, Cred], *, use_auth_field: bool = False) -> str:
    """A config.json text: {"auths": {key: {username, password} | {auth}}}."""
    auths: dict[str, dict[str, str]] = {}
    for key, cred in entries.items():
        if use_auth_field:
            auths[key] = {"auth": base64.b64encode(f"{cred.username}:{cred.password}".encode()).decode()}
        else:
            auths[key] = {"username": cred.username, "password": cred.password}
    return json.dumps({"auths": auths}, indent=2)


def pull_secret_yaml(name: str, config_json: str) -> str:
    """A kubernetes.io/dockerconfigjson Secret manifest (YAML; JSON scalars are valid YAML)."""
    payload = base64.b64encode(config_json.encode()).decode()
    return "\n".join(
        [
            "apiVersion: v1",
            "kind: Secret",
            "metadata:",
            f"  name: {json.dumps(name)}",
            "  namespace: default",
            "type: kubernetes.io/dockerconfigjson",
            "data:",
            f"  .dockerconfigjson: {json.dumps(payload)}",
            "",
        ]
    )


def provider_config_yaml(sources: list[dict[str, str]]) -> str:
    """A pullkey ProviderConfig (HELPERS.md schema) with these sources, in precedence order."""
    lines = ["apiVersion: pullkey.dev/v1alpha1", "kind: ProviderConfig", "sources:"]
    for source in sources:
        first = True
        for k, v in source.items():
            lines.append(f"  {'- ' if first else '  '}{k}: {json.dumps(v)}")
            first = False
    return "\n".join([*lines, ""])
