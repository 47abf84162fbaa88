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
# The kubelet kills an exec plugin after one minute (docs/kubelet.md §e.3).
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

    The kubelet side is oracles/kubelet_sim.py (written from docs/kubelet.md): it writes the request,
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
    """A pullkey ProviderConfig (docs/provider-config.md schema) with these sources, in precedence order."""
    lines = ["apiVersion: pullkey.dev/v1alpha1", "kind: ProviderConfig", "sources:"]
    for source in sources:
        first = True
        for k, v in source.items():
            lines.append(f"  {'- ' if first else '  '}{k}: {json.dumps(v)}")
            first = False
    return "\n".join([*lines, ""])


# --------------------------------------------------------------------------------------------------
# `pullkey probe`: TLS material, a token issuer, a registry with token auth over HTTPS, a registry
# that never answers. Added for tests/e2e/test_probe.py; nothing above depends on it.


@dataclass(frozen=True)
class TlsFiles:
    """A test CA, a server certificate for 127.0.0.1 signed by it, and a JWT signing key whose
    self-signed certificate is the token registry's ``rootcertbundle``."""

    ca_cert: Path
    server_cert: Path
    server_key: Path
    signing_key: Path
    signing_cert: Path


def make_tls_files(directory: Path) -> TlsFiles:
    """Fresh keys and certificates (P-256, valid for a day) made with ``cryptography``."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def builder(subject: str, issuer: str, public: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(name(issuer))
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
        )

    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        builder("pullkey e2e CA", "pullkey e2e CA", ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        builder("127.0.0.1", "pullkey e2e CA", server_key.public_key())
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    signing_key = ec.generate_private_key(ec.SECP256R1())
    signing = builder("pullkey e2e token issuer", "pullkey e2e token issuer", signing_key.public_key()).sign(
        signing_key, hashes.SHA256()
    )
    files = TlsFiles(
        ca_cert=directory / "ca.crt",
        server_cert=directory / "server.crt",
        server_key=directory / "server.key",
        signing_key=directory / "signing.key",
        signing_cert=directory / "signing.crt",
    )
    files.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.server_cert.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    files.server_key.write_bytes(pem_key(server_key))
    files.signing_key.write_bytes(pem_key(signing_key))
    files.signing_cert.write_bytes(signing.public_bytes(serialization.Encoding.PEM))
    for key in (files.server_key, files.signing_key):
        key.chmod(0o600)
    return files


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenIssuer:
    """A Docker token service (distribution's ``auth: token`` realm) over HTTPS on 127.0.0.1.

    ``GET /token?service=S&scope=repository:NAME:ACTIONS`` with Basic credentials answers a JWT
    (ES256, the signing certificate in ``x5c``) granting the requested actions the user is allowed;
    a wrong password is 401; no credentials is an anonymous token that grants nothing. Passwords
    and tokens are never logged or printed.
    """

    def __init__(self, tls: TlsFiles, service: str, issuer: str = "pullkey-e2e-issuer") -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        self.service = service
        self.issuer = issuer
        # user -> (password, {repository: allowed actions})
        self.users: dict[str, tuple[str, dict[str, set[str]]]] = {}
        self.requests = 0
        key = serialization.load_pem_private_key(tls.signing_key.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        self._key = key
        cert = x509.load_pem_x509_certificate(tls.signing_cert.read_bytes())
        self._x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")
        issuer_self = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # quiet: no request lines anywhere
                return

            def do_GET(self) -> None:
                issuer_self.requests += 1
                status, body = issuer_self.answer(self.path, self.headers.get("Authorization"))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="pullkey-e2e-issuer"')
                self.end_headers()
                self.wfile.write(data)

        import ssl

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(tls.server_cert), str(tls.server_key))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, name="token-issuer", daemon=True)
        self._thread.start()

    @property
    def realm(self) -> str:
        return f"https://127.0.0.1:{self.port}/token"

    def add_user(self, user: str, password: str, access: dict[str, set[str]]) -> None:
        self.users[user] = (password, access)

    def answer(self, path: str, authorization: str | None) -> tuple[int, dict[str, object]]:
        url = urllib.parse.urlsplit(path)
        query = urllib.parse.parse_qs(url.query)
        if url.path != "/token" or query.get("service") != [self.service]:
            return 400, {"errors": [{"code": "UNSUPPORTED", "message": "wrong path or service"}]}
        subject = ""
        allowed: dict[str, set[str]] = {}
        if authorization:
            scheme, _, value = authorization.partition(" ")
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return 401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]}
            known = self.users.get(user)
            if scheme.lower() != "basic" or known is None or known[0] != password:
                return 401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]}
            subject, allowed = user, known[1]
        access: list[dict[str, object]] = []
        for scope in query.get("scope", []):
            for item in scope.split(" "):
                kind, _, rest = item.partition(":")
                repo, _, actions = rest.rpartition(":")
                granted = sorted(set(actions.split(",")) & allowed.get(repo, set()))
                if kind == "repository" and granted:
                    access.append({"type": "repository", "name": repo, "actions": granted})
        return 200, {"token": self.sign(subject, access), "expires_in": 300}

    def sign(self, subject: str, access: list[dict[str, object]]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "x5c": [self._x5c]}
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": base64.b16encode(os.urandom(8)).decode(),
            "access": access,
        }
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        der = self._key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class TokenRegistry(Registry):
    """``docker-registry serve`` with ``auth: token`` (tokens from a :class:`TokenIssuer`), over HTTPS
    with a certificate from the test CA. ``user``/``password`` are the issuer's admin (push) account."""

    tls: TlsFiles | None = None
    issuer: TokenIssuer | None = None

    def _write_config(self) -> Path:
        assert self.tls is not None and self.issuer is not None
        storage = self.workdir / "storage"
        storage.mkdir(exist_ok=True)
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
                "  tls:",
                f"    certificate: {json.dumps(str(self.tls.server_cert))}",
                f"    key: {json.dumps(str(self.tls.server_key))}",
                "auth:",
                "  token:",
                f"    realm: {json.dumps(self.issuer.realm)}",
                f"    service: {json.dumps(self.issuer.service)}",
                f"    issuer: {json.dumps(self.issuer.issuer)}",
                f"    rootcertbundle: {json.dumps(str(self.tls.signing_cert))}",
                "",
            ]
        )
        path = self.workdir / "config.yml"
        path.write_text(config)
        return path

    def write_htpasswd(self) -> None:
        """No htpasswd here: the issuer holds the accounts."""
        assert self.issuer is not None
        self.issuer.add_user(self.user, self.password, {IMAGE_PATH: {"pull", "push"}})
        self.htpasswd_path.write_text("")

    def _wait_ready(self, timeout_s: float) -> str:
        """'' once ``GET https://.../v2/`` answers 401 with a Bearer challenge."""
        import ssl

        assert self.tls is not None
        context = ssl.create_default_context(cafile=str(self.tls.ca_cert))
        deadline = time.monotonic() + timeout_s
        status = "no answer"
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                return f"docker-registry exited with status {self.proc.returncode}"
            try:
                with urllib.request.urlopen(f"https://{self.host}/v2/", timeout=2, context=context) as resp:
                    status = f"GET /v2/ answered {resp.status}"
            except urllib.error.HTTPError as err:
                if err.code == 401 and "Bearer" in err.headers.get("WWW-Authenticate", ""):
                    return ""
                status = f"GET /v2/ answered {err.code}"
            except (urllib.error.URLError, OSError) as err:
                status = f"no answer ({type(err).__name__})"
            time.sleep(0.05)
        return f"timed out after {timeout_s:.0f}s ({status}; expected 401 with a Bearer challenge)"


def push_over_tls(skopeo: Skopeo, image: OciImage, registry: Registry, path: str = IMAGE_PATH) -> None:
    """``skopeo copy`` into a TLS registry whose CA skopeo is not given (verification off for the push)."""
    proc = skopeo.run(
        [
            "copy",
            "--retry-times=0",
            "--dest-tls-verify=false",
            "--dest-creds",
            f"{registry.user}:{registry.password}",
            f"oci:{image.layout}:{image.tag}",
            f"docker://{registry.host}/{path}:{image.tag}",
        ]
    )
    if proc.returncode != 0:
        pytest.fail(f"skopeo copy into registry {registry.name} failed:\n{proc.stderr}", pytrace=False)


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts connections and never answers (a hung registry)."""

    def __init__(self) -> None:
        import threading

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="silent-server", daemon=True)
        self._thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)  # held open, never read from or written to

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self.accepted:
            conn.close()
        self.sock.close()
