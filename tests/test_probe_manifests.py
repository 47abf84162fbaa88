"""``pullkey probe`` without a registry: images from Kubernetes manifests, challenge parsing, the
Docker Hub endpoint, reports, options, and the exec path's imports (it must never load urllib3)."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from pullkey.probe import (
    ImageResult,
    ManifestError,
    ProbeOptions,
    client,
    images_from_bytes,
    images_from_files,
    probe,
    report,
)
from pullkey.probe.engine import Attempt, CredentialInfo
from pullkey.service import Options, Resolver

WORKLOADS = """\
apiVersion: v1
kind: Pod
metadata: {name: solo, namespace: prod}
spec:
  initContainers: [{name: init, image: "reg.example/init:1"}]
  containers: [{name: app, image: "reg.example/app:1"}, {name: side, image: "reg.example/side:1"}]
  ephemeralContainers: [{name: debug, image: "busybox"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      initContainers: [{name: migrate, image: "reg.example/migrate:2"}]
      containers: [{name: web, image: "reg.example/web:2"}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec: {template: {spec: {containers: [{name: db, image: "reg.example/db:3"}]}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec: {template: {spec: {containers: [{name: agent, image: "reg.example/agent:4"}]}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec: {template: {spec: {containers: [{name: rs, image: "reg.example/rs:5"}]}}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec: {template: {spec: {containers: [{name: job, image: "reg.example/job:6"}]}}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          initContainers: [{name: prep, image: "reg.example/prep:7"}]
          containers: [{name: cron, image: "reg.example/cron:7"}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80}]}
---
# an empty document
"""


def test_every_workload_kind_and_container_list() -> None:
    found = images_from_bytes(WORKLOADS.encode(), "all.yaml")
    assert [f.image for f in found] == [
        "reg.example/init:1",
        "reg.example/app:1",
        "reg.example/side:1",
        "busybox",
        "reg.example/migrate:2",
        "reg.example/web:2",
        "reg.example/db:3",
        "reg.example/agent:4",
        "reg.example/rs:5",
        "reg.example/job:6",
        "reg.example/prep:7",
        "reg.example/cron:7",
    ]
    origins = {f.image: f.origin for f in found}
    assert origins["reg.example/init:1"] == "all.yaml#1: prod/Pod/solo initContainers[0] (init)"
    assert origins["busybox"] == "all.yaml#1: prod/Pod/solo ephemeralContainers[0] (debug)"
    assert origins["reg.example/migrate:2"] == "all.yaml#2: Deployment/web initContainers[0] (migrate)"
    assert origins["reg.example/prep:7"] == "all.yaml#7: CronJob/nightly initContainers[0] (prep)"


def test_a_list_as_kubectl_prints_it_and_json_input() -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "a.example/x"}]}},
            {
                "kind": "DeploymentList",
                "items": [
                    {
                        "kind": "Deployment",
                        "metadata": {"name": "d"},
                        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "b.example/y:1"}]}}},
                    }
                ],
            },
        ],
    }
    found = images_from_bytes(json.dumps(doc).encode(), "list.json")
    assert [(f.image, f.origin) for f in found] == [
        ("a.example/x", "list.json items[0]: Pod/p containers[0] (c)"),
        ("b.example/y:1", "list.json items[1] items[0]: Deployment/d containers[0] (c)"),
    ]


def test_files_and_stdin(tmp_path: Path) -> None:
    one = tmp_path / "one.yaml"
    one.write_text("kind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: x.example/a:1}]}\n")
    stdin = io.BytesIO(b"kind: Pod\nmetadata: {name: b}\nspec: {containers: [{name: c, image: x.example/b:1}]}\n")
    found = images_from_files([str(one), "-", "-"], stdin=stdin)
    assert [f.image for f in found] == ["x.example/a:1", "x.example/b:1"]
    assert found[1].origin.startswith("<stdin>: Pod/b")


def test_a_directory_is_its_manifest_files(tmp_path: Path) -> None:
    pod = "kind: Pod\nmetadata: {{name: {n}}}\nspec: {{containers: [{{name: c, image: x.example/{n}:1}}]}}\n"
    (tmp_path / "b.yaml").write_text(pod.format(n="b"))
    (tmp_path / "a.yml").write_text(pod.format(n="a"))
    (tmp_path / "c.json").write_text(json.dumps({"kind": "Pod", "spec": {"containers": [{"image": "x.example/c"}]}}))
    (tmp_path / "notes.txt").write_text("image: not-a-manifest\n")
    (tmp_path / "sub.yaml").mkdir()
    assert [f.image for f in images_from_files([str(tmp_path)])] == ["x.example/a:1", "x.example/b:1", "x.example/c"]


def test_a_container_without_an_image_is_a_warning() -> None:
    warnings: list[str] = []
    found = images_from_bytes(b"kind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c}]}\n", "p.yaml", warnings)
    assert found == []
    assert warnings == ["p.yaml: Pod/a containers[0] (c): no image"]


def test_manifest_errors_name_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Pod\nspec: {containers: [\n  - oops: : :\n")
    with pytest.raises(ManifestError, match=r"bad\.yaml: .*\(line \d+, column \d+\)"):
        images_from_files([str(bad)])
    with pytest.raises(ManifestError, match=r"missing\.yaml: No such file"):
        images_from_files([str(tmp_path / "missing.yaml")])


def test_manifest_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pullkey.probe import manifests

    monkeypatch.setattr(manifests, "MAX_MANIFEST_BYTES", 64)
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * 100 + "\n")
    with pytest.raises(ManifestError, match="larger than"):
        images_from_files([str(big)])


# --------------------------------------------------------------------------------------------------
# The registry protocol's small parts


def test_www_authenticate_parsing() -> None:
    header = (
        'Bearer realm="https://auth.example/token",service="registry.example",'
        'scope="repository:team/app:pull,push",error="insufficient_scope"'
    )
    (c,) = client.parse_challenges(header)
    assert c.scheme == "bearer"
    assert dict(c.params) == {
        "realm": "https://auth.example/token",
        "service": "registry.example",
        "scope": "repository:team/app:pull,push",
        "error": "insufficient_scope",
    }
    both = client.parse_challenges('Basic realm="r\\"q", Bearer realm="https://t.example/", service=svc')
    assert [(c.scheme, dict(c.params)) for c in both] == [
        ("basic", {"realm": 'r"q'}),
        ("bearer", {"realm": "https://t.example/", "service": "svc"}),
    ]
    assert client.parse_challenges("") == []
    assert [c.scheme for c in client.parse_challenges("Basic")] == ["basic"]


def test_docker_hub_endpoint_and_insecure_hosts() -> None:
    assert client.endpoint_host("docker.io") == "registry-1.docker.io"
    assert client.endpoint_host("registry.example:5000") == "registry.example:5000"
    assert client.normalize_host("http://Reg.Example:5000/") == "reg.example:5000"


def test_options_are_bounded() -> None:
    with pytest.raises(ValueError, match="positive"):
        ProbeOptions(timeout=0)
    with pytest.raises(ValueError, match="parallelism"):
        ProbeOptions(parallelism=0)


# --------------------------------------------------------------------------------------------------
# The engine without a registry: references that do not parse, a port where nothing listens


def _empty_resolver(tmp_path: Path) -> Resolver:
    resolver = Resolver(Options(root_dir=str(tmp_path), home=str(tmp_path), cwd=str(tmp_path), environ={}))
    resolver.load()
    return resolver


def test_an_invalid_reference_is_reported_without_a_request(tmp_path: Path) -> None:
    (r,) = probe(["UPPER/Case:1"], _empty_resolver(tmp_path))
    assert (r.ok, r.reason, r.attempts) == (False, "invalid_reference", ())


def test_nothing_listening_is_unreachable_once_per_registry(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        host = f"127.0.0.1:{s.getsockname()[1]}"  # bound, not listening: connections are refused
        results = probe(
            [f"{host}/a:1", f"{host}/b:1", f"{host}/a:1"],
            _empty_resolver(tmp_path),
            ProbeOptions(insecure_registries=(host,), timeout=2),
        )
    assert [r.image for r in results] == [f"{host}/a:1", f"{host}/b:1"]  # a repeated image is probed once
    assert [r.reason for r in results] == ["unreachable", "unreachable"]
    assert results[0].attempts[0].credential is None  # no credential matched: one anonymous attempt
    assert "connection refused" in results[0].detail
    assert "not asked again" in results[1].detail
    assert results[0].endpoint == f"http://{host}"


# --------------------------------------------------------------------------------------------------
# Reports


def _result(ok: bool) -> ImageResult:
    cred = CredentialInfo("reg.example/team", "/node/config.json", "alice")
    refused = Attempt(cred, False, "unauthorized", "the registry refused the credential", 401, 0.01)
    if ok:
        opened = Attempt(None, True, None, "the manifest is there", 200, 0.01)
        return ImageResult(
            "reg.example/team/app:1", True, None, "", digest="sha256:" + "a" * 64, attempts=(refused, opened)
        )
    return ImageResult(
        "reg.example/team/app:2", False, "unauthorized", "refused", attempts=(refused,), origins=("d.yaml: Pod/p",)
    )


def test_text_and_json_reports() -> None:
    ok, bad = _result(True), _result(False)
    lines = report.text_lines(bad)
    assert lines[0].startswith("FAIL  reg.example/team/app:2  unauthorized: refused")
    assert "reg.example/team (user 'alice', from /node/config.json): unauthorized" in lines[1]
    assert lines[-1] == "      in d.yaml: Pod/p"
    assert report.text_lines(ok)[0].startswith("ok    reg.example/team/app:1  sha256:aaaa")
    obj = json.loads(report.json_line(bad))
    assert (obj["image"], obj["ok"], obj["reason"]) == ("reg.example/team/app:2", False, "unauthorized")
    who = {"key": "reg.example/team", "source": "/node/config.json", "username": "alice"}
    assert obj["attempts"][0]["credential"] == who
    assert report.summary([ok, bad]) == "probe: 2 images, 1 would pull, 1 would not"
    assert report.summary([ok]) == "probe: 1 image, all would pull"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal() -> None:
    quiet = io.StringIO()
    p = report.Progress(3, quiet)
    p.advance()
    p.close()
    assert quiet.getvalue() == ""
    tty = _Tty()
    p = report.Progress(2, tty)
    p.advance()
    p.close()
    assert "1/2" in tty.getvalue() and tty.getvalue().endswith("\r\x1b[K")


# --------------------------------------------------------------------------------------------------
# The exec path stays lean


def test_the_exec_path_never_imports_the_probe(tmp_path: Path) -> None:
    request = json.dumps(
        {"apiVersion": "credentialprovider.kubelet.k8s.io/v1", "kind": "CredentialProviderRequest", "image": "x/y"}
    )
    code = (
        "import sys\n"
        "from pullkey import _launch\n"
        "code = _launch.main(['--root-dir', sys.argv[1]])\n"
        "bad = sorted(m for m in ('urllib3', 'yaml', 'pullkey.probe', 'ssl') if m in sys.modules)\n"
        "sys.stderr.write(repr(bad))\n"
        "sys.exit(code)\n"
    )
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-I", "-c", code, str(tmp_path)],
        input=request.encode(),
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.decode() == "[]"
    assert b"CredentialProviderResponse" in proc.stdout


def test_reasons_are_the_clients() -> None:
    from pullkey import probe as package

    assert set(package.REASONS) == {
        client.UNAUTHORIZED,
        client.FORBIDDEN,
        client.MANIFEST_UNKNOWN,
        client.UNREACHABLE,
        client.TLS_ERROR,
        client.TIMEOUT,
        client.DEADLINE_EXCEEDED,
        client.REGISTRY_ERROR,
        client.INVALID_REFERENCE,
    }


def test_the_cli_parser_does_not_load_urllib3() -> None:
    code = "import sys; from pullkey import cli; cli.build_parser(); print('urllib3' in sys.modules)"
    proc = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert proc.stdout.strip() == "False"


# --------------------------------------------------------------------------------------------------
# The command line, offline: usage errors and references that do not parse


def test_cli_usage_and_invalid_references(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pullkey import cli

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    root = ["--root-dir", str(tmp_path)]
    assert cli.main(["probe", *root]) == 2
    assert "name an IMAGE or a manifest file" in capsys.readouterr().err
    assert cli.main(["probe", *root, "-f", "-", "-"]) == 2
    capsys.readouterr()
    assert cli.main(["probe", *root, "--json", "Bad/Name"]) == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["reason"] == "invalid_reference"
    empty = tmp_path / "svc.yaml"
    empty.write_text("kind: Service\nmetadata: {name: s}\n")
    assert cli.main(["probe", *root, "-f", str(empty)]) == 1
    assert "name no container image" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["probe", *root, "--timeout", "0", "x.example/a"])
    assert "must be positive" in capsys.readouterr().err
