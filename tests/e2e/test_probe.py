"""``pullkey probe``: would the kubelet's credentials pull these images? Asked of real registries.

Real parts only: the session's two Debian ``docker-registry`` servers with htpasswd (Basic) auth over
plain HTTP (named with ``--insecure-registry``), a third ``docker-registry`` with ``auth: token``
over HTTPS whose tokens come from a token issuer run by this test (JWTs signed with a key whose
self-signed certificate is the registry's ``rootcertbundle``; its TLS certificate is from a test CA
that the probe trusts through OpenSSL's ``SSL_CERT_FILE``), a registry that was stopped, and a
socket that accepts and never answers. The probe is the installed ``pullkey`` executable, and the
Python API and the gRPC ``Probe`` call over the same state.

Every run's stdout and stderr is checked for every password in play (canaries).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .conftest import Registries
from .harness import (
    IMAGE_PATH,
    IMAGE_TAG,
    Cred,
    OciImage,
    Registry,
    SilentServer,
    Skopeo,
    TlsFiles,
    TokenIssuer,
    TokenRegistry,
    build_oci_layout,
    docker_config,
    make_tls_files,
    pullkey_executable,
    push_over_tls,
)

# Every password any test here hands out; none may appear in any output.
CANARIES: set[str] = set()


def canary(cred: Cred) -> Cred:
    CANARIES.add(cred.password)
    return cred


@dataclass(frozen=True)
class TokenSetup:
    """The token-auth registry (HTTPS), its issuer, and two pull-only accounts."""

    registry: TokenRegistry
    issuer: TokenIssuer
    tls: TlsFiles
    image: OciImage
    carol: Cred  # pull on team/app
    dave: Cred  # pull on other/app only

    @property
    def repo(self) -> str:
        return f"{self.registry.host}/{IMAGE_PATH}"


@pytest.fixture(scope="module")
def token_setup(
    e2e_tools: dict[str, str], skopeo: Skopeo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TokenSetup]:
    tls = make_tls_files(tmp_path_factory.mktemp("probe-tls"))
    issuer = TokenIssuer(tls, service="pullkey-e2e-registry")
    registry = TokenRegistry(
        name="token",
        workdir=tmp_path_factory.mktemp("registry-token"),
        user="admin",
        password=secrets.token_urlsafe(18),
        tls=tls,
        issuer=issuer,
    )
    CANARIES.add(registry.password)
    try:
        registry.start()
        image = build_oci_layout(tmp_path_factory.mktemp("oci-token") / "layout", label="token")
        push_over_tls(skopeo, image, registry)
        carol = canary(Cred("carol", secrets.token_urlsafe(18)))
        dave = canary(Cred("dave", secrets.token_urlsafe(18)))
        issuer.add_user(carol.username, carol.password, {IMAGE_PATH: {"pull"}})
        issuer.add_user(dave.username, dave.password, {"other/app": {"pull"}})
        yield TokenSetup(registry, issuer, tls, image, carol, dave)
    finally:
        registry.stop()
        issuer.stop()


@pytest.fixture(scope="module", autouse=True)
def _registry_canaries(registries: Registries) -> None:
    CANARIES.update({registries.a.password, registries.b.password})


@dataclass
class Node:
    """A kubelet root dir (its ``config.json`` holds the node credentials), a HOME and a cwd."""

    root: Path
    home: Path = field(init=False)
    cwd: Path = field(init=False)

    def __post_init__(self) -> None:
        self.home = self.root / "home"
        self.cwd = self.root / "cwd"
        for d in (self.root, self.home, self.cwd):
            d.mkdir(parents=True, exist_ok=True)

    def credentials(self, entries: dict[str, Cred]) -> Node:
        for cred in entries.values():
            canary(cred)
        (self.root / "config.json").write_text(docker_config(entries))
        return self

    @property
    def config_path(self) -> str:
        return str(self.root / "config.json")


@pytest.fixture
def node(tmp_path: Path) -> Node:
    return Node(tmp_path / "node")


@dataclass(frozen=True)
class ProbeRun:
    returncode: int
    stdout: str
    stderr: str
    results: list[dict[str, object]]
    seconds: float

    def one(self) -> dict[str, object]:
        assert len(self.results) == 1, self.results
        return self.results[0]


def assert_no_canary(*texts: str) -> None:
    for text in texts:
        for secret in CANARIES:
            assert secret not in text, "a password appeared in the output"


def run_probe(
    node: Node,
    *args: str,
    ca: TlsFiles | None = None,
    stdin: str | None = None,
    json_output: bool = True,
    timeout_s: float = 60,
) -> ProbeRun:
    """The installed ``pullkey probe --root-dir <node>`` with HOME and cwd inside the node: the
    kubelet search paths hold only this test's credentials. ``ca``: trust the test CA (SSL_CERT_FILE)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(node.home), "LANG": "C.UTF-8"}
    if ca is not None:
        env["SSL_CERT_FILE"] = str(ca.ca_cert)
    cmd = [pullkey_executable(), "probe", "--root-dir", str(node.root), *(["--json"] if json_output else []), *args]
    start = time.monotonic()
    proc = subprocess.run(
        cmd,
        input=(stdin or "").encode(),
        capture_output=True,
        env=env,
        cwd=node.cwd,
        timeout=timeout_s,
        check=False,
    )
    seconds = time.monotonic() - start
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert_no_canary(out, err)
    results = [json.loads(line) for line in out.splitlines()] if json_output and out.strip() else []
    return ProbeRun(proc.returncode, out, err, results, seconds)


def attempts(result: dict[str, object]) -> list[dict[str, object]]:
    value = result["attempts"]
    assert isinstance(value, list)
    return value


# --------------------------------------------------------------------------------------------------
# Basic auth (htpasswd), plain HTTP for a registry named insecure


def test_right_credential_opens_the_manifest(registries: Registries, node: Node) -> None:
    reg = registries.a
    node.credentials({reg.host: reg.cred})
    run = run_probe(node, "--insecure-registry", reg.host, f"{reg.repo}:{IMAGE_TAG}")
    assert run.returncode == 0, run.stderr
    r = run.one()
    assert (r["image"], r["ok"], r["reason"]) == (f"{reg.repo}:{IMAGE_TAG}", True, None)
    assert r["digest"] == registries.images["a"].manifest_digest  # Docker-Content-Digest of the pushed manifest
    assert r["credential"] == {"key": reg.host, "source": node.config_path, "username": reg.user}
    assert r["endpoint"] == f"http://{reg.host}"
    assert isinstance(r["seconds"], float) and r["seconds"] > 0

    text = run_probe(node, "--insecure-registry", reg.host, f"{reg.repo}:{IMAGE_TAG}", json_output=False)
    assert text.returncode == 0
    first = text.stdout.splitlines()[0]
    assert first.startswith(f"ok    {reg.repo}:{IMAGE_TAG}  {registries.images['a'].manifest_digest}")
    assert f"opened by {reg.host} (user {reg.user!r}, from {node.config_path})" in first
    assert text.stdout.splitlines()[-1] == "probe: 1 image, all would pull"
    assert text.stderr == ""  # no progress bar off a terminal


def test_wrong_credential_is_unauthorized(registries: Registries, node: Node) -> None:
    reg = registries.a
    node.credentials({reg.host: Cred(reg.user, reg.password + "-wrong")})
    run = run_probe(node, "--insecure-registry", reg.host, f"{reg.repo}:{IMAGE_TAG}")
    assert run.returncode == 1
    r = run.one()
    assert (r["ok"], r["reason"]) == (False, "unauthorized")
    (a,) = attempts(r)
    assert a["status"] == 401 and a["credential"] == {"key": reg.host, "source": node.config_path, "username": reg.user}
    text = run_probe(node, "--insecure-registry", reg.host, f"{reg.repo}:{IMAGE_TAG}", json_output=False)
    assert text.returncode == 1 and text.stdout.startswith(f"FAIL  {reg.repo}:{IMAGE_TAG}  unauthorized")


def test_credentials_are_tried_in_kubelet_order(registries: Registries, node: Node) -> None:
    """The more specific key comes first in the kubelet's keyring; it holds the other registry's
    user, which fails; the host-wide key's credential then opens it, as the kubelet's pull would."""
    reg, other = registries.pair("a")
    node.credentials({reg.repo: other.cred, reg.host: reg.cred})
    run = run_probe(node, "--insecure-registry", reg.host, f"{reg.repo}:{IMAGE_TAG}")
    assert run.returncode == 0
    r = run.one()
    tried = attempts(r)
    assert [(a["ok"], a["reason"]) for a in tried] == [(False, "unauthorized"), (True, None)]
    explain = subprocess.run(
        [pullkey_executable(), "explain", "--json", "--root-dir", str(node.root), f"{reg.repo}:{IMAGE_TAG}"],
        capture_output=True,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(node.home)},
        cwd=node.cwd,
        timeout=60,
        check=True,
    )
    order = [c["key"] for c in json.loads(explain.stdout)["credentials"]]
    assert [a["credential"]["key"] for a in tried] == order == [reg.repo, reg.host]  # type: ignore[index]
    assert r["credential"] == {"key": reg.host, "source": node.config_path, "username": reg.user}


def test_a_credential_for_another_path_leaves_an_anonymous_pull(registries: Registries, node: Node) -> None:
    reg = registries.a
    node.credentials({f"{reg.host}/other/path": reg.cred})
    run = run_probe(node, "--insecure-registry", reg.host, f"{reg.repo}:{IMAGE_TAG}")
    assert run.returncode == 1
    r = run.one()
    assert (r["reason"], r["anonymous"]) == ("unauthorized", True)
    (a,) = attempts(r)
    assert a["credential"] is None and "none matched" in str(a["detail"])


def test_a_missing_tag_is_manifest_unknown(registries: Registries, node: Node) -> None:
    reg = registries.a
    node.credentials({reg.host: reg.cred})
    run = run_probe(node, "--insecure-registry", reg.host, f"{reg.repo}:no-such-tag", f"{reg.repo}:{IMAGE_TAG}")
    assert run.returncode == 1  # one of two would not pull
    missing, present = run.results
    assert (missing["ok"], missing["reason"]) == (False, "manifest_unknown")
    assert "no-such-tag" in str(missing["detail"])
    assert present["ok"] is True


def test_by_digest(registries: Registries, node: Node) -> None:
    reg = registries.a
    node.credentials({reg.host: reg.cred})
    digest = registries.images["a"].manifest_digest
    wrong = "sha256:" + "0" * 64
    run = run_probe(node, "--insecure-registry", reg.host, f"{reg.repo}@{digest}", f"{reg.repo}:{IMAGE_TAG}@{wrong}")
    pinned, missing = run.results
    assert (pinned["ok"], pinned["reference"], pinned["digest"]) == (True, digest, digest)
    assert (missing["reason"], missing["reference"]) == ("manifest_unknown", wrong)  # a digest wins over the tag


def test_plain_http_only_for_registries_named_insecure(registries: Registries, node: Node) -> None:
    reg = registries.a
    node.credentials({reg.host: reg.cred})
    run = run_probe(node, f"{reg.repo}:{IMAGE_TAG}")  # HTTPS by default: this registry speaks plain HTTP
    r = run.one()
    assert (run.returncode, r["reason"], r["endpoint"]) == (1, "tls_error", f"https://{reg.host}")


def test_a_stopped_registry_is_unreachable(
    e2e_tools: dict[str, str], node: Node, tmp_path_factory: pytest.TempPathFactory
) -> None:
    reg = Registry(name="stopped", workdir=tmp_path_factory.mktemp("registry-stopped"), user="erin", password="x")
    reg.password = secrets.token_urlsafe(18)
    CANARIES.add(reg.password)
    reg.start()
    reg.stop()
    node.credentials({reg.host: reg.cred})
    run = run_probe(node, "--insecure-registry", reg.host, f"{reg.repo}:{IMAGE_TAG}")
    r = run.one()
    assert (run.returncode, r["reason"]) == (1, "unreachable")
    assert "refused" in str(r["detail"])


def test_a_registry_that_never_answers_times_out(registries: Registries, node: Node) -> None:
    silent = SilentServer()
    try:
        run = run_probe(node, "--insecure-registry", silent.host, "--timeout", "1", f"{silent.host}/team/app:1")
    finally:
        silent.stop()
    r = run.one()
    assert (run.returncode, r["reason"]) == (1, "timeout")
    assert run.seconds < 15


def test_the_total_deadline_bounds_the_run(registries: Registries, node: Node) -> None:
    """One registry at a time (--parallel 1): the hung one uses the whole deadline (its request's
    timeout is cut to what is left), its second image is not asked again, and the image of the
    healthy registry, queued behind it, is reported past the deadline instead of being tried."""
    reg = registries.a
    node.credentials({reg.host: reg.cred})
    silent = SilentServer()
    try:
        run = run_probe(
            node,
            *("--insecure-registry", silent.host, "--insecure-registry", reg.host),
            *("--timeout", "30", "--deadline", "2", "--parallel", "1"),
            f"{silent.host}/x/one:1",
            f"{silent.host}/x/two:1",
            f"{reg.repo}:{IMAGE_TAG}",
        )
    finally:
        silent.stop()
    assert [r["reason"] for r in run.results] == ["timeout", "timeout", "deadline_exceeded"]
    assert "not asked again" in str(run.results[1]["detail"])
    assert 1.5 < run.seconds < 15


# --------------------------------------------------------------------------------------------------
# Token auth (Bearer), HTTPS with the trust store


def test_token_auth_right_credential(token_setup: TokenSetup, node: Node) -> None:
    t = token_setup
    node.credentials({t.registry.host: t.carol})
    before = t.issuer.requests
    run = run_probe(node, f"{t.repo}:{IMAGE_TAG}", ca=t.tls)
    assert run.returncode == 0, run.stdout
    r = run.one()
    assert r["ok"] is True and r["digest"] == t.image.manifest_digest
    assert r["endpoint"] == f"https://{t.registry.host}"
    assert r["credential"] == {"key": t.registry.host, "source": node.config_path, "username": "carol"}
    assert t.issuer.requests > before  # the token came from the issuer's realm


def test_token_auth_wrong_credential(token_setup: TokenSetup, node: Node) -> None:
    t = token_setup
    node.credentials({t.registry.host: Cred("carol", t.carol.password + "-wrong")})
    r = run_probe(node, f"{t.repo}:{IMAGE_TAG}", ca=t.tls).one()
    assert (r["ok"], r["reason"]) == (False, "unauthorized")
    assert "token service" in str(r["detail"])


def test_token_auth_credential_for_another_path_is_forbidden(token_setup: TokenSetup, node: Node) -> None:
    t = token_setup
    node.credentials({t.registry.host: t.dave})
    run = run_probe(node, f"{t.repo}:{IMAGE_TAG}", ca=t.tls)
    r = run.one()
    assert (run.returncode, r["reason"]) == (1, "forbidden")
    assert "no pull access to team/app" in str(r["detail"])


def test_token_auth_anonymous_and_missing_tag(token_setup: TokenSetup, node: Node) -> None:
    t = token_setup
    anonymous = run_probe(node, f"{t.repo}:{IMAGE_TAG}", ca=t.tls).one()
    assert (anonymous["reason"], anonymous["anonymous"]) == ("unauthorized", True)
    node.credentials({t.registry.host: t.carol})
    missing = run_probe(node, f"{t.repo}:2.0", ca=t.tls).one()
    assert (missing["reason"], missing["ok"]) == ("manifest_unknown", False)


def test_token_registry_with_an_untrusted_certificate(token_setup: TokenSetup, node: Node) -> None:
    t = token_setup
    node.credentials({t.registry.host: t.carol})
    r = run_probe(node, f"{t.repo}:{IMAGE_TAG}").one()  # the test CA is not in the trust store
    assert r["reason"] == "tls_error" and "certificate" in str(r["detail"])


# --------------------------------------------------------------------------------------------------
# Images from manifests


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  template:
    spec:
      initContainers:
        - {{name: migrate, image: "{init}"}}
      containers:
        - {{name: web, image: "{main}"}}
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec: {{ports: [{{port: 80}}]}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {{name: report}}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - {{name: report, image: "{cron}"}}
"""


def test_images_from_a_manifest_file_with_init_containers(
    registries: Registries, token_setup: TokenSetup, node: Node
) -> None:
    reg, t = registries.a, token_setup
    node.credentials({reg.host: reg.cred, t.registry.host: t.carol})
    init, main = f"{reg.repo}:{IMAGE_TAG}", f"{t.repo}:{IMAGE_TAG}"
    manifest = node.root / "deploy.yaml"
    manifest.write_text(DEPLOYMENT.format(init=init, main=main, cron=main))
    run = run_probe(node, "--insecure-registry", reg.host, "-f", str(manifest), ca=t.tls)
    assert run.returncode == 0, run.stdout
    assert [(r["image"], r["ok"]) for r in run.results] == [(init, True), (main, True)]  # the repeat is probed once
    assert run.results[0]["origins"] == [f"{manifest}#1: shop/Deployment/web initContainers[0] (migrate)"]
    assert run.results[1]["origins"] == [
        f"{manifest}#1: shop/Deployment/web containers[0] (web)",
        f"{manifest}#3: CronJob/report containers[0] (report)",
    ]

    # From standard input, with a missing tag in the CronJob: the run fails, and says where it is.
    broken = DEPLOYMENT.format(init=init, main=main, cron=f"{t.repo}:missing")
    run = run_probe(node, "--insecure-registry", reg.host, "-f", "-", ca=t.tls, stdin=broken)
    assert run.returncode == 1
    assert [(r["ok"], r["reason"]) for r in run.results] == [(True, None), (True, None), (False, "manifest_unknown")]
    assert run.results[2]["origins"] == ["<stdin>#3: CronJob/report containers[0] (report)"]
    text = run_probe(node, "--insecure-registry", reg.host, "-f", "-", ca=t.tls, stdin=broken, json_output=False)
    assert "in <stdin>#3: CronJob/report containers[0] (report)" in text.stdout
    assert text.stdout.splitlines()[-1] == "probe: 3 images, 2 would pull, 1 would not"


# --------------------------------------------------------------------------------------------------
# The Python API over the same registries


def test_python_api(registries: Registries, node: Node) -> None:
    from pullkey.probe import ProbeOptions, probe
    from pullkey.service import Options, Resolver

    reg, other = registries.pair("a")
    node.credentials({reg.host: reg.cred, other.host: Cred(other.user, other.password + "-old")})
    resolver = Resolver(Options(root_dir=str(node.root), home=str(node.home), cwd=str(node.cwd), environ={}))
    results = probe(
        [f"{reg.repo}:{IMAGE_TAG}", f"{other.repo}:{IMAGE_TAG}"],
        resolver,
        ProbeOptions(insecure_registries=(reg.host, other.host), timeout=5),
    )
    assert [(r.ok, r.reason) for r in results] == [(True, None), (False, "unauthorized")]
    assert results[0].digest == registries.images["a"].manifest_digest
    assert results[0].credential is not None and results[0].credential.username == reg.user
    assert_no_canary(repr(results), json.dumps([r.to_dict() for r in results]))


# --------------------------------------------------------------------------------------------------
# The gRPC Probe call: the same answer from `pullkey serve`


def test_grpc_probe(registries: Registries, token_setup: TokenSetup, node: Node, tmp_path: Path) -> None:
    import grpc
    from google.protobuf import duration_pb2
    from pullkey.v1 import credential_pb2 as pb
    from pullkey.v1 import credential_pb2_grpc

    reg, t = registries.a, token_setup
    node.credentials({reg.host: reg.cred, t.registry.host: t.carol, f"{t.registry.host}/other": t.dave})
    images = [f"{reg.repo}:{IMAGE_TAG}", f"{t.repo}:{IMAGE_TAG}", f"{t.repo}:missing", f"{t.registry.host}/other/x:1"]
    sock_dir = tmp_path / "run"
    sock_dir.mkdir(mode=0o700)
    sock = sock_dir / "pullkey.sock"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(node.home),
        "SSL_CERT_FILE": str(t.tls.ca_cert),
    }
    stderr_path = tmp_path / "serve.stderr"
    with stderr_path.open("wb") as err:
        server = subprocess.Popen(
            [pullkey_executable(), "serve", "--listen", f"unix://{sock}", "--root-dir", str(node.root), "--v", "4"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=node.cwd,
        )
    try:
        deadline = time.monotonic() + 20
        while not sock.exists():
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"pullkey serve did not create {sock}:\n{stderr_path.read_text(errors='replace')}")
            time.sleep(0.05)
        with grpc.insecure_channel(f"unix://{sock}") as channel:
            grpc.channel_ready_future(channel).result(timeout=10)
            stub = credential_pb2_grpc.CredentialServiceStub(channel)
            request = pb.ProbeRequest(
                images=images, insecure_registries=[reg.host], timeout=duration_pb2.Duration(seconds=5)
            )
            answer = stub.Probe(request, timeout=30)
            too_many = pb.ProbeRequest(images=["x.example/a"] * 1001)
            with pytest.raises(grpc.RpcError) as refused:
                stub.Probe(too_many, timeout=10)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        server.terminate()
        server.wait(timeout=15)
    assert_no_canary(str(answer), answer.SerializeToString().decode(errors="replace"), stderr_path.read_text())
    assert [(r.image, r.ok, r.reason) for r in answer.results] == [
        (images[0], True, ""),
        (images[1], True, ""),
        (images[2], False, "manifest_unknown"),
        (images[3], False, "forbidden"),
    ]
    first, second = answer.results[0], answer.results[1]
    assert first.digest == registries.images["a"].manifest_digest and second.digest == t.image.manifest_digest
    assert (second.credential.key, second.credential.username, second.credential.source) == (
        t.registry.host,
        "carol",
        node.config_path,
    )
    assert answer.results[3].attempts[0].http_status == 401
    # The CLI over the same node says the same.
    cli = run_probe(node, "--insecure-registry", reg.host, *images, ca=t.tls)
    assert [(r["ok"], r["reason"] or "", r["digest"] or "") for r in cli.results] == [
        (r.ok, r.reason, r.digest) for r in answer.results
    ]
