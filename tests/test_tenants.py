"""Tenants end to end on the exec path and the CLI: a two-tenant node, tokens signed in the test the way
the API server signs them (tests/issuer.py), the installed `pullkey` run the way the kubelet runs it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import issuer
import pytest
from conftest import Run, b64auth, request, run_plugin, write_config
from pullkey import _core
from pullkey.errors import ConfigError, TokenError
from pullkey.options import Options
from pullkey.service import Resolver

REGISTRY = "registry.example.com"
SET_ANNOTATION = "pullkey.dev/credential-set"


@dataclass
class Cluster:
    """A node with node-wide credentials and two tenants' credential sets."""

    tmp: Path
    config: Path
    root: Path
    jwks: Path

    def run(self, req: dict[str, object], *args: str, config: Path | None = None) -> Run:
        env = {"PULLKEY_ROOT_DIR": str(self.root), "HOME": str(self.tmp / "home")}
        return run_plugin(req, args=["--config", str(config or self.config), *args], env=env, cwd="/")

    def pull(
        self, image: str, token: str | None = None, annotations: dict[str, str] | None = None, **kw: object
    ) -> Run:
        extra: dict[str, object] = {}
        if token is not None:
            extra["serviceAccountToken"] = token
        if annotations:
            extra["serviceAccountAnnotations"] = annotations
        return self.run(request(image, **extra), **kw)  # type: ignore[arg-type]


CONFIG = """\
apiVersion: pullkey.dev/v1alpha1
kind: ProviderConfig
sources:
  - type: SearchPaths
cache:
  duration: 10m
tenants:
  audience: pullkey
  issuer: https://kubernetes.default.svc.cluster.local
  jwksPath: jwks.json
  cacheType: ServiceAccount
credentialSets:
  - name: team-a
    sources:
      - type: DockerConfig
        path: team-a/config.json
    selector:
      namespaces: [team-a]
  - name: team-b
    sources:
      - type: PullSecret
        path: team-b/pull-secret.yaml
    selector:
      namespaces: [team-b]
      annotations:
        pullkey.dev/credential-set: team-b
"""


def _secret_manifest(user: str, password: str) -> str:
    config = json.dumps({"auths": {REGISTRY: {"auth": b64auth(user, password)}}})
    import base64

    data = base64.b64encode(config.encode()).decode()
    return (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: team-b-pull, namespace: team-b}\n"
        f"type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {data}\n"
    )


@pytest.fixture
def cluster(tmp_path: Path) -> Cluster:
    etc = tmp_path / "etc"
    write_config(tmp_path / "kubelet" / "config.json", {REGISTRY: {"auth": b64auth("node-robot", "node-pw")}})
    write_config(etc / "team-a" / "config.json", {REGISTRY: {"auth": b64auth("team-a-robot", "a-pw")}})
    (etc / "team-b").mkdir(parents=True)
    (etc / "team-b" / "pull-secret.yaml").write_text(_secret_manifest("team-b-robot", "b-pw"))
    issuer.write_jwks(etc / "jwks.json", issuer.rsa_key(), issuer.ec_key())
    (etc / "pullkey.yaml").write_text(CONFIG)
    (tmp_path / "home").mkdir()
    return Cluster(tmp_path, etc / "pullkey.yaml", tmp_path / "kubelet", etc / "jwks.json")


def users(run: Run) -> list[str]:
    """Usernames of the answer in the order the kubelet tries them (keys sorted descending, §c.3)."""
    assert run.returncode == 0, run.stderr
    auth = run.json()["auth"]
    assert isinstance(auth, dict)
    return [auth[k]["username"] for k in sorted(auth, reverse=True)]


def seconds(duration: object) -> int:
    assert isinstance(duration, str)
    total, number = 0, ""
    for ch in duration:
        if ch.isdigit():
            number += ch
        else:
            total += int(number) * {"h": 3600, "m": 60, "s": 1}[ch]
            number = ""
    return total


def test_no_token_gets_the_node_sources_only(cluster: Cluster) -> None:
    run = cluster.pull(f"{REGISTRY}/team-a/app")
    assert users(run) == ["node-robot"]
    assert run.stderr == b""
    assert run.json()["cacheDuration"] == "10m0s"


@pytest.mark.parametrize("key", ["rsa", "ec"])
def test_a_tenant_gets_its_set_first_then_the_node(cluster: Cluster, key: str) -> None:
    signing = issuer.rsa_key() if key == "rsa" else issuer.ec_key()
    run = cluster.pull(f"{REGISTRY}/team-a/app", issuer.token("team-a", "default", signing, lifetime=3600))
    assert users(run) == ["team-a-robot", "node-robot"]
    assert run.stderr == b""
    assert seconds(run.json()["cacheDuration"]) == 600, "the configured 10m: the token lives longer"


def test_the_answer_never_outlives_the_token(cluster: Cluster) -> None:
    run = cluster.pull(f"{REGISTRY}/x", issuer.token("team-a", "default", lifetime=120))
    assert users(run) == ["team-a-robot", "node-robot"]
    assert 100 <= seconds(run.json()["cacheDuration"]) <= 120


def test_annotations_come_from_the_kubelet_request(cluster: Cluster) -> None:
    tok = issuer.token("team-b", "builder")
    assert users(cluster.pull(f"{REGISTRY}/b", tok)) == ["node-robot"], "team-b's set needs the annotation"
    assert users(cluster.pull(f"{REGISTRY}/b", tok, {SET_ANNOTATION: "gold"})) == ["node-robot"]
    assert users(cluster.pull(f"{REGISTRY}/b", tok, {SET_ANNOTATION: "team-b"})) == ["team-b-robot", "node-robot"]
    # The annotation alone does not make another namespace team-b.
    other = issuer.token("team-a", "default")
    assert users(cluster.pull(f"{REGISTRY}/b", other, {SET_ANNOTATION: "team-b"})) == ["team-a-robot", "node-robot"]


def test_a_service_account_matching_no_set_gets_the_node_only(cluster: Cluster) -> None:
    run = cluster.pull(f"{REGISTRY}/c", issuer.token("team-c", "default"))
    assert users(run) == ["node-robot"]
    assert run.stderr == b""


def _bad_tokens() -> dict[str, tuple[str, str]]:
    """Each rejected token and the code its stderr line names."""
    other_key = issuer.rsa_key("someone-else")
    good = issuer.claims("team-a", "default")
    forged = issuer.sign(good, other_key, kid=issuer.kid_of(issuer.rsa_key()))
    tampered_parts = issuer.token("team-b", "default").split(".")
    tampered_parts[1] = issuer.b64url(json.dumps(issuer.claims("team-a", "default")).encode())
    none_header = issuer.b64url(json.dumps({"alg": "none"}).encode())
    return {
        "expired": (issuer.token("team-a", "default", now=int(time.time()) - 7200), "token_expired"),
        "wrongly signed": (forged, "token_signature"),
        "tampered": (".".join(tampered_parts), "token_signature"),
        "unknown key": (issuer.sign(good, other_key), "token_unknown_key"),
        "wrong audience": (issuer.token("team-a", "default", audience=["vault"]), "token_audience"),
        "extra audience": (issuer.token("team-a", "default", audience=["pullkey", "vault"]), "token_audience"),
        "wrong issuer": (issuer.token("team-a", "default", issuer="https://evil.example"), "token_issuer"),
        "malformed": ("not-a-jwt", "token_malformed"),
        "alg none": (f"{none_header}.{issuer.b64url(json.dumps(good).encode())}.x", "token_algorithm"),
    }


@pytest.mark.parametrize("case", sorted(_bad_tokens()))
def test_a_rejected_token_gets_no_tenant_credential_and_one_line(cluster: Cluster, case: str) -> None:
    tok, code = _bad_tokens()[case]
    run = cluster.pull(f"{REGISTRY}/team-a/app", tok, {SET_ANNOTATION: "team-b"})
    assert users(run) == ["node-robot"], case
    assert run.json()["cacheDuration"] == "0s", "never cached: the next request may carry a good token"
    err = run.stderr.decode()
    assert err.count("\n") == 1 and err.startswith(f"pullkey: service-account token rejected ({code}): "), err
    assert "node credentials only" in err
    assert tok[:16] not in err, "the token is never echoed"


def test_a_missing_jwks_rejects_every_token_with_one_line(cluster: Cluster) -> None:
    cluster.jwks.unlink()
    run = cluster.pull(f"{REGISTRY}/x", issuer.token("team-a", "default"))
    assert users(run) == ["node-robot"]
    assert run.stderr.decode().startswith("pullkey: service-account token rejected (invalid_jwks): ")
    assert "cannot read the issuer's JWKS" in run.stderr.decode()


def test_trust_kubelet_request_is_explicit(cluster: Cluster) -> None:
    """Without verification any well-formed token for the audience is believed: only with the flag."""
    unknown = issuer.token("team-a", "default", issuer.rsa_key("unregistered"))
    assert users(cluster.pull(f"{REGISTRY}/x", unknown)) == ["node-robot"]
    trusting = cluster.config.with_name("trusting.yaml")
    trusting.write_text(
        CONFIG.replace("  jwksPath: jwks.json\n", "  trustKubeletRequest: true\n").replace(
            "  issuer: https://kubernetes.default.svc.cluster.local\n", ""
        )
    )
    run = cluster.pull(f"{REGISTRY}/x", unknown, config=trusting)
    assert users(run) == ["team-a-robot", "node-robot"]
    expired = issuer.token("team-a", "default", now=int(time.time()) - 7200)
    assert users(cluster.pull(f"{REGISTRY}/x", expired, config=trusting)) == ["node-robot"], "claims still checked"


def test_older_api_versions_carry_no_token(cluster: Cluster) -> None:
    tok = issuer.token("team-a", "default")
    req = request(f"{REGISTRY}/x", "v1beta1", serviceAccountToken=tok)
    assert users(cluster.run(req)) == ["node-robot"]


def test_exec_path_with_a_token_stays_lean(cluster: Cluster) -> None:
    code = (
        "import sys; from pullkey._launch import main; rc = main(sys.argv[1:]); "
        "sys.stderr.write(' '.join(sorted(sys.modules)))"
    )
    req = request(f"{REGISTRY}/x", serviceAccountToken=issuer.token("team-a", "default"))
    proc = subprocess.run(
        [sys.executable, "-c", code, "--config", str(cluster.config)],
        input=json.dumps(req).encode(),
        capture_output=True,
        env={"PULLKEY_ROOT_DIR": str(cluster.root), "HOME": str(cluster.tmp / "home")},
        check=True,
    )
    auth = json.loads(proc.stdout)["auth"]
    assert sorted(v["username"] for v in auth.values()) == ["node-robot", "team-a-robot"]
    loaded = set(proc.stderr.decode().split())
    for heavy in ("json", "re", "typing", "argparse", "dataclasses", "grpc", "pullkey.cli", "pullkey.service"):
        assert heavy not in loaded, heavy


def test_resolver_decides_and_explains(cluster: Cluster) -> None:
    resolver = Resolver(Options(config=str(cluster.config), root_dir=str(cluster.root), home=str(cluster.tmp / "home")))
    resolver.load()
    ts = resolver.state.tenants
    assert ts is not None and len(ts.keyrings) == 2
    decision = ts.decide(issuer.token("team-b", "default"))
    assert decision.index is None, "over gRPC and the CLI nobody vouches for annotations"
    reasons = {name: reason for name, _, reason in decision.verdicts}
    assert "only the kubelet's exec request" in reasons["team-b"]
    assert reasons["team-a"] == 'namespace "team-b" is not one of ["team-a"]'
    decision = ts.decide(issuer.token("team-a", "default"))
    assert decision.index == 0
    creds = ts.keyring(decision, resolver.state.keyring).lookup(f"{REGISTRY}/x")
    assert [c.username for c in creds] == ["team-a-robot", "node-robot"]
    bad = ts.decide("x.y.z")
    assert bad.error is not None and bad.error.code == "token_malformed" and bad.index is None


def test_config_errors_reach_python_with_their_path(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG.replace("cacheType: ServiceAccount", "cacheType: Pod"))
    with pytest.raises(ConfigError) as info:
        Resolver(Options(config=str(path))).load()
    assert info.value.path == "tenants.cacheType"
    with pytest.raises(TokenError) as token_info:
        _core.TokenVerifier("pullkey", None, b"{}", "j.json")
    assert token_info.value.code == "invalid_jwks"


# ---------------------------------------------------------------------------------------------
# CLI: explain --token-file, kubelet-config --tenants, check
# ---------------------------------------------------------------------------------------------


def cli(cluster: Cluster, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PULLKEY_ROOT_DIR": str(cluster.root), "HOME": str(cluster.tmp / "home"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "pullkey", "--config", str(cluster.config), *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=60,
        check=False,
    )


def test_explain_with_a_token_file_shows_the_set_and_why(cluster: Cluster, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(issuer.token("team-a", "builder") + "\n")
    proc = cli(cluster, "explain", "--token-file", str(token_file), f"{REGISTRY}/team-a/app")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "identity:    team-a/builder (pod app-0, signature verified)" in out
    assert "credential set: team-a" in out
    assert '- team-b: not chosen: namespace "team-a" is not one of ["team-b"]' in out
    assert out.index("team-a-robot") < out.index("node-robot")
    assert token_file.read_text().strip()[:20] not in out
    proc = cli(cluster, "explain", "--json", "--token-file", str(token_file), f"{REGISTRY}/team-a/app")
    result = json.loads(proc.stdout)
    assert result["tenant"]["selected"] == "team-a"
    assert [c["username"] for c in result["credentials"]] == ["team-a-robot", "node-robot"]

    token_file.write_text(issuer.token("team-a", "builder", audience=["other"]))
    proc = cli(cluster, "explain", "--token-file", str(token_file), f"{REGISTRY}/team-a/app")
    assert proc.returncode == 0, proc.stderr
    assert "token rejected (token_audience)" in proc.stdout
    assert "credential set: none (node sources only)" in proc.stdout
    assert "team-a-robot" not in proc.stdout


def test_kubelet_config_with_tenants_passes_check(cluster: Cluster, tmp_path: Path) -> None:
    proc = cli(cluster, "kubelet-config", "--tenants", "--match-image", "*.example.com")
    assert proc.returncode == 0, proc.stderr
    config = proc.stdout
    assert "    tokenAttributes:\n" in config
    assert '      serviceAccountTokenAudience: "pullkey"\n' in config
    assert '      cacheType: "ServiceAccount"\n' in config
    assert "      requireServiceAccount: false\n" in config
    assert f'      optionalServiceAccountAnnotationKeys:\n        - "{SET_ANNOTATION}"\n' in config
    path = tmp_path / "credential-provider.yaml"
    path.write_text(config)
    assert _core.validate_kubelet_config([(str(path), config.encode())]) == []
    proc = cli(cluster, "check", "--kubelet-config", str(path))
    assert proc.returncode == 0, proc.stdout
    assert "ok: " + str(path) in proc.stdout
    assert "credential set team-a" in proc.stdout and "credential set team-b" in proc.stdout


def test_kubelet_config_tenants_needs_a_tenants_block(cluster: Cluster) -> None:
    cluster.config.write_text("apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\n")
    proc = cli(cluster, "kubelet-config", "--tenants", "--match-image", "*.example.com")
    assert proc.returncode == 1
    assert "--tenants needs a tenants block" in proc.stderr


def test_rbac_manifests_validate_against_the_kubernetes_schemas(cluster: Cluster) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    import yaml

    proc = cli(cluster, "kubelet-config", "--tenants", "--rbac")
    assert proc.returncode == 0, proc.stderr
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    assert [d["kind"] for d in docs] == ["ClusterRole", "ClusterRoleBinding"]
    role, binding = docs
    # ServiceAccountNodeAudienceRestriction: the kubelet may request tokens for this audience only with
    # the RBAC verb request-serviceaccounts-token-audience on the audience as a core-group resource.
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["pullkey"], "verbs": ["request-serviceaccounts-token-audience"]}
    ]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:nodes"}]
    for doc in docs:
        kubernetes_validate.validate(doc, "1.34", strict=True)
    broken = dict(role, rules=[{"apiGroups": [""], "resources": ["x"], "verbs": "create"}])
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.34", strict=True)


# ---------------------------------------------------------------------------------------------
# README "Tenants": the two-tenant example runs as written (paths under /etc move to tmp_path)
# ---------------------------------------------------------------------------------------------

README = Path(__file__).resolve().parent.parent / "README.md"


def _readme_block(first_line: str) -> str:
    import re

    text = README.read_text()
    blocks = re.findall(r"<!-- readme-test: [^\n]*-->\n```\w+\n(.*?)\n```", text, re.S)
    found = [b for b in blocks if first_line in b]
    assert len(found) == 1, first_line
    return str(found[0])


def test_readme_two_tenant_example(tmp_path: Path) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    import yaml

    etc = tmp_path / "etc"

    def here(text: str) -> str:
        assert "/etc/pullkey/" in text or "/etc/kubernetes/" in text or "/tmp/token" in text
        return text.replace("/etc/", f"{etc}/").replace("/tmp/token", str(tmp_path / "token"))

    config = _readme_block("credentialSets:")
    (etc / "pullkey").mkdir(parents=True)
    (etc / "kubernetes").mkdir()
    (etc / "pullkey" / "pullkey.yaml").write_text(here(config))
    issuer.write_jwks(etc / "pullkey" / "jwks.json", issuer.rsa_key())
    write_config(etc / "pullkey" / "team-a" / "config.json", {REGISTRY: {"auth": b64auth("team-a-robot", "a")}})
    (etc / "pullkey" / "team-b").mkdir()
    (etc / "pullkey" / "team-b" / "pull-secret.yaml").write_text(_secret_manifest("team-b-robot", "b"))
    root = tmp_path / "kubelet"
    write_config(root / "config.json", {REGISTRY: {"auth": b64auth("node-robot", "n")}})
    (tmp_path / "token").write_text(issuer.token("team-a", "default"))

    commands = _readme_block("kubectl get --raw /openid/v1/jwks").replace("\\\n", " ").splitlines()
    env = {"PULLKEY_ROOT_DIR": str(root), "HOME": str(tmp_path), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    outputs: dict[str, str] = {}
    for command in commands:
        command = command.split("   #")[0].strip()
        if not command.startswith("pullkey"):
            continue  # kubectl: needs a cluster (the JWKS and the token are made above)
        command = here(command).replace("| kubectl apply -f -", "")
        # kubelet-config hands PULLKEY_ROOT_DIR on as `env`: the README's node uses the default root dir.
        run_env = {k: v for k, v in env.items() if k != "PULLKEY_ROOT_DIR" or "kubelet-config" not in command}
        proc = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", command], capture_output=True, text=True, env=run_env, check=False
        )
        assert proc.returncode == 0, (command, proc.stdout, proc.stderr)
        outputs[command.split()[1]] = outputs.get(command.split()[1], "") + proc.stdout
    assert "check: ok" in outputs["check"]
    assert "credential set: team-a" in outputs["explain"]
    assert outputs["explain"].index("team-a-robot") < outputs["explain"].index("node-robot")
    # The kubelet config the README shows is the one written (paths aside), and the kubelet accepts it.
    written = (etc / "kubernetes" / "credential-providers.yaml").read_text()
    assert written.replace(str(etc), "/etc") == _readme_block("kind: CredentialProviderConfig") + "\n"
    assert _core.validate_kubelet_config([("k.yaml", written.encode())]) == []
    # The RBAC the README shows is the one printed, and valid against the Kubernetes schemas.
    rbac = outputs["kubelet-config"]
    assert rbac == _readme_block("kind: ClusterRole") + "\n"
    for doc in yaml.safe_load_all(rbac):
        kubernetes_validate.validate(doc, "1.34", strict=True)
