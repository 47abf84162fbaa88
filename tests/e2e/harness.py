"""Real parts for the end-to-end tests: registries, an OCI image, skopeo, and a kubelet stand-in.

Everything here starts real processes (Debian's ``docker-registry``, ``skopeo``, the installed
``pullkey``) and talks to them the way production does. Nothing is mocked. Secrets are never
printed: failures name the registry, user and key, never a password.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
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
from pathlib import Path

import pytest

from oracles import kubelet_sim as ks

INSTALL_HINT = (
    "install them with: sudo scripts/install-e2e-deps.sh (Debian packages docker-registry, skopeo, apache2-utils)"
)
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
# The kubelet's side: oracles/kubelet_sim.py execs the plugin, decodes strictly, orders like its keyring


@dataclass(frozen=True)
class ExecProvider:
    """One CredentialProviderConfig ``providers[]`` entry for pullkey: its args and env, and the apiVersion."""

    args: list[str]
    env: dict[str, str]
    api_version: str = API_V1


@dataclass(frozen=True)
class ExecResult:
    """One plugin run as the kubelet saw it (no secrets in the repr)."""

    credentials: list[Cred]  # in the order the kubelet tries them
    keys: list[str]  # the response's auth keys, sorted
    cache_key_type: str
    seconds: float


def exec_plugin(provider: ExecProvider, image: str, *, kubelet_home: Path, kubelet_cwd: Path) -> ExecResult:
    """Pull-time credentials for *image* as the kubelet gets them from pullkey as its only exec plugin.

    The kubelet side is oracles/kubelet_sim.py (written from spec/kubelet.md): it writes the request,
    strictly decodes the response, feeds the auth map to a fresh BasicDockerKeyring and looks the
    image up (spec §c.5, §e.2-§e.4). The process is the installed ``pullkey`` with the provider's args,
    the kubelet's environment followed by the provider's env, the kubelet's working directory and the
    one-minute limit (§e.3). Any failure that the kubelet would swallow (it would pull anonymously)
    fails the test loudly instead.
    """
    config = ks.ProviderConfig(
        name="pullkey",
        match_images=(image.split("/", 1)[0],),
        default_cache_duration="0s",
        api_version=provider.api_version,
        args=tuple(provider.args),
        env=tuple(provider.env.items()),
    )
    runs: list[tuple[int, bytes, bytes, float]] = []

    def run(request: bytes) -> tuple[int, bytes, bytes]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(kubelet_home), "LANG": "C.UTF-8"}
        env.update(dict(config.env))  # configured entries come last and win
        start = time.monotonic()
        try:
            proc = subprocess.run(
                [pullkey_executable(), *config.args],
                input=request,
                capture_output=True,
                env=env,
                cwd=kubelet_cwd,
                timeout=EXEC_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise TimeoutError from None
        runs.append((proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start))
        return proc.returncode, proc.stdout, proc.stderr

    keyring = ks.ExecPluginKeyring.from_configs([(config, run)])
    creds = ks.kubelet_credentials(image, plugin_keyring=keyring)
    plugin = keyring.providers[0]
    if plugin.last_error is not None:
        # pullkey's stderr is its one-line error; it must not hold secrets, so it may be shown.
        stderr = runs[-1][2].decode(errors="replace").strip() if runs else ""
        pytest.fail(f"the kubelet discarded pullkey's answer for {image}: {plugin.last_error}\n{stderr}", pytrace=False)
    assert len(runs) == 1, f"pullkey ran {len(runs)} times for one lookup"
    response = ks.strict_decode_response(runs[0][1], provider.api_version)
    return ExecResult(
        credentials=[Cred(u, p) for u, p in creds],
        keys=sorted(response.auth),
        cache_key_type=response.cache_key_type,
        seconds=runs[0][3],
    )


@dataclass(frozen=True)
class PullOutcome:
    """Which credential (index in kubelet order) opened the registry, and what each attempt said."""

    opened_with: int | None
    refusals: list[str]
    layout: Path | None = None  # the pulled OCI layout


def kubelet_pull(skopeo: Skopeo, registry: Registry, creds: list[Cred], dest: Path) -> PullOutcome:
    """Try each credential in order until one pull succeeds (kubelet image puller with a keyring)."""
    refusals: list[str] = []
    for i, cred in enumerate(creds):
        out = dest / f"try{i}"
        proc = skopeo.pull(registry, out, cred)
        if proc.returncode == 0:
            return PullOutcome(i, refusals, out)
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
