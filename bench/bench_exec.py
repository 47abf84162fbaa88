"""The kubelet exec plugin, whole process: start-up to response, and peak RSS.

Runs the installed ``pullkey`` executable exactly as the kubelet does (no arguments, a v1
``CredentialProviderRequest`` on stdin, response on stdout) against a 1,000-entry ``config.json`` in a
temporary root dir (env ``PULLKEY_ROOT_DIR``; HOME and the working directory are empty temp dirs so
no other docker config is read). Contenders, interleaved run by run: ``python -c pass`` with the
interpreter of the ``pullkey`` script's shebang (the budget's yardstick), plus context rows
``python -c "import json"`` and ``python -I -S -c pass``.

Wall time: each child is started with ``os.posix_spawn`` and reaped with ``os.wait4``; the time is
spawn → exit, stdin written and stdout drained as the kubelet does.

Peak RSS: NOT the ``ru_maxrss`` of those children. Linux records the RSS of the mm a process had just
before ``execve`` into its max-RSS, and a child spawned from this (large) bench process starts from a
copy of (fork) or the very same (vfork/posix_spawn) mm, so every child would report at least the
bench's own RSS (this is what ``RUSAGE_CHILDREN`` deltas show too). Instead each contender is also run
under GNU ``/usr/bin/time -f %M``: time forks from its own ~1 MiB image, so the number it reports is
the child's own peak (floor ≈ 1 MiB, far below any Python process).

Budgets (`docs/architecture.md`): median ≤ 1.6x ``python -c pass``; peak RSS ≤ 30 MiB.

Tenants (docs/provider-config.md "Tenants"): the same node with a ``tenants`` block and one credential
set, run with the same v1 request without a token and with a team's service-account token (RS256,
signed in the bench as the API server signs it, tests/issuer.py): verification (JWKS read, signature,
claims) and the set's own source. Budget: with a token ≤ 1.10x without, same run.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from _harness import Row

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import issuer  # the test issuer: keys made here, tokens signed as the API server signs them

SUITE = "exec"
ENTRIES = 1_000
TIME = "/usr/bin/time"


def find_pullkey() -> Path | None:
    """The `pullkey` executable of this environment: next to the running interpreter, else on PATH."""
    local = Path(sys.executable).parent / "pullkey"
    if local.is_file() and os.access(local, os.X_OK):
        return local
    found = shutil.which("pullkey")
    return Path(found) if found else None


def shebang_interpreter(script: Path) -> str:
    """The interpreter named by the script's `#!` line (the `python` every contender uses)."""
    try:
        with open(script, "rb") as f:
            first = f.readline(512)
    except OSError:
        return sys.executable
    if first.startswith(b"#!"):
        parts = first[2:].decode(errors="replace").split()
        if parts and "python" in Path(parts[0]).name:
            return parts[0]
    return sys.executable


class Child:
    """One spawned process: wall time (ns), exit status, peak RSS (KiB), stdout bytes."""

    __slots__ = ("maxrss_kib", "ns", "status", "stdout")

    def __init__(self, ns: int, status: int, maxrss_kib: int, stdout: bytes) -> None:
        self.ns, self.status, self.maxrss_kib, self.stdout = ns, status, maxrss_kib, stdout


def spawn(argv: list[str], env: dict[str, str], stdin: bytes, stderr_path: str) -> Child:
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    actions = [
        (os.POSIX_SPAWN_DUP2, in_r, 0),
        (os.POSIX_SPAWN_DUP2, out_w, 1),
        (os.POSIX_SPAWN_OPEN, 2, stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
    ]
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
    os.close(in_r)
    os.close(out_w)
    try:
        os.write(in_w, stdin)
    except BrokenPipeError:
        pass  # the contender does not read stdin and already exited
    os.close(in_w)
    chunks = []
    while True:
        chunk = os.read(out_r, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(out_r)
    _, status, usage = os.wait4(pid, 0)
    t1 = time.perf_counter_ns()
    return Child(t1 - t0, status, usage.ru_maxrss, b"".join(chunks))


def rss_kib(argv: list[str], env: dict[str, str], stdin: bytes, out_path: str, stderr_path: str) -> int | None:
    """Peak RSS (KiB) of one run of argv, as measured by GNU time (see the module docstring)."""
    child = spawn([TIME, "-f", "%M", "-o", out_path, *argv], env, stdin, stderr_path)
    if not os.WIFEXITED(child.status):
        return None
    try:
        return int(Path(out_path).read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


def _first_line(path: str) -> str:
    try:
        with open(path, errors="replace") as f:
            return f.readline().strip()[:200]
    except OSError:
        return ""


def run(quick: bool = False) -> list[Row]:
    rounds = 12 if quick else 40
    warmup = 2 if quick else 4
    script = find_pullkey()
    python = shebang_interpreter(script) if script else sys.executable
    keys = corpus.keyring_keys(ENTRIES)
    image = next(i for i in corpus.images(keys, 50, miss_ratio=0.0) if not i.startswith("docker.io/"))
    request = (
        json.dumps(
            {"kind": "CredentialProviderRequest", "apiVersion": "credentialprovider.kubelet.k8s.io/v1", "image": image},
            separators=(",", ":"),
        )
        + "\n"
    ).encode()

    contenders: dict[str, list[str]] = {}
    stdins: dict[str, bytes] = {}
    if script is not None:
        contenders["pullkey"] = [str(script)]
        helper = script.parent / "docker-credential-pullkey"
        if helper.is_file():  # the credential-helper entry (docs/helpers.md): `get`, a server URL on stdin
            contenders["helper"] = [str(helper), "get"]
            stdins["helper"] = image.split("/", 1)[0].encode() + b"\n"
    contenders["pass"] = [python, "-c", "pass"]
    contenders["json"] = [python, "-c", "import json"]
    contenders["IS"] = [python, "-I", "-S", "-c", "pass"]
    token = issuer.token("team-a", "default", lifetime=24 * 3600)
    with_token = (request.decode().rstrip("\n")[:-1] + f',"serviceAccountToken":{json.dumps(token)}}}\n').encode()
    requests = {name: request for name in contenders}

    times: dict[str, list[float]] = {k: [] for k in contenders}
    rss: dict[str, list[float]] = {k: [] for k in contenders}
    failure = helper_failure = ""
    old_cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="pullkey-bench-exec-") as tmp:
        root = Path(tmp, "root")
        home = Path(tmp, "home")
        cwd = Path(tmp, "cwd")
        for d in (root, home, cwd):
            d.mkdir()
        (root / "config.json").write_text(json.dumps(corpus.docker_config(keys)))
        tenant_config = _tenant_node(Path(tmp, "etc"), image)
        if script is not None:
            contenders["tenants, no token"] = [str(script), "--config", str(tenant_config)]
            contenders["tenants, token"] = [str(script), "--config", str(tenant_config)]
            requests["tenants, no token"] = request
            requests["tenants, token"] = with_token
            times.update({"tenants, no token": [], "tenants, token": []})
            rss.update({"tenants, no token": [], "tenants, token": []})
        stderr_path = str(Path(tmp, "stderr"))
        rss_path = str(Path(tmp, "rss"))
        has_time = os.access(TIME, os.X_OK)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "PULLKEY_ROOT_DIR": str(root),
        }
        os.chdir(cwd)  # the kubelet search path includes the working directory
        try:
            names = list(contenders)
            for r in range(warmup + rounds):
                order = names[r % len(names) :] + names[: r % len(names)]  # rotate who goes first
                for name in order:
                    stdin = stdins.get(name, requests[name])
                    child = spawn(contenders[name], env, stdin, stderr_path)
                    if name.startswith(("pullkey", "tenants")) and not failure:
                        failure = _check_response(child, stderr_path, tenant=name == "tenants, token")
                    if name == "helper" and not helper_failure:
                        helper_failure = _check_helper(child, stderr_path)
                    if r >= warmup:
                        times[name].append(child.ns / 1e6)
                        if has_time:
                            kib = rss_kib(contenders[name], env, stdin, rss_path, stderr_path)
                            if kib is not None:
                                rss[name].append(kib / 1024)
        finally:
            os.chdir(old_cwd)

    med = {k: statistics.median(v) for k, v in times.items()}
    peak = {k: (max(v) if v else None) for k, v in rss.items()}
    pk_t = med.get("pullkey")
    pk_rss = peak.get("pullkey")
    if failure:
        pk_t = pk_rss = None
    n_label = f"{rounds} runs, interleaved; {ENTRIES:,}-entry config.json"
    note = f"interpreter: {python}; pullkey: {script or 'not installed'}"
    if peak.get("pass") is not None:
        note += "; peak RSS by GNU time, MiB: " + ", ".join(f"{k} {v:.1f}" for k, v in peak.items() if v is not None)
    if pk_t is not None:
        q = statistics.quantiles(times["pullkey"], n=10)
        note += f"; pullkey p10/p90 {q[0]:.1f}/{q[-1]:.1f} ms"
    if failure:
        note += f"; pullkey run failed: {failure}"
    rows = [
        Row(
            SUITE,
            "exec plugin, whole process (v1 request → response)",
            n_label,
            "ms",
            pk_t,
            "`python -c pass` (same interpreter)",
            med["pass"],
            "median ≤ 1.6× `python -c pass`",
            None if pk_t is None else bool(pk_t <= 1.6 * med["pass"]),
            note=note,
        ),
        Row(SUITE, "exec plugin, whole process", n_label, "ms", pk_t, '`python -c "import json"`', med["json"]),
        Row(SUITE, "exec plugin, whole process", n_label, "ms", pk_t, "`python -I -S -c pass`", med["IS"]),
        Row(
            SUITE,
            "exec plugin, peak RSS (max over runs)",
            n_label,
            "MiB",
            pk_rss,
            "`python -c pass`",
            peak["pass"],
            "≤ 30 MiB",
            None if pk_rss is None else bool(pk_rss <= 30),
        ),
    ]
    if "helper" in med:
        hp_t = None if helper_failure else med["helper"]
        rows.append(
            Row(
                SUITE,
                "`docker-credential-pullkey get`, whole process (server URL → credential)",
                n_label,
                "ms",
                hp_t,
                "`python -c pass` (same interpreter)",
                med["pass"],
                "median ≤ 1.3× `python -c pass`",
                None if hp_t is None else bool(hp_t <= 1.3 * med["pass"]),
                note=f"peak RSS {peak['helper']:.1f} MiB" if peak.get("helper") else helper_failure,
            )
        )
    t_no, t_yes = med.get("tenants, no token"), med.get("tenants, token")
    if t_no is not None and t_yes is not None and not failure:
        q = statistics.quantiles(times["tenants, token"], n=10)
        rows.append(
            Row(
                SUITE,
                "exec plugin with tenants, whole process: v1 request with a service-account token (RS256 verified)",
                n_label,
                "ms",
                t_yes,
                "the same config and request without a token",
                t_no,
                "with a token ≤ 1.10× without",
                bool(t_yes <= 1.10 * t_no),
                note=f"token p10/p90 {q[0]:.1f}/{q[-1]:.1f} ms; without a token {t_no:.2f} ms, "
                f"plain node config (no tenants block) {med['pullkey']:.2f} ms",
            )
        )
    return rows


def _check_helper(child: Child, stderr_path: str) -> str:
    """'' when the helper printed a credential, else a short reason (never the body)."""
    if not os.WIFEXITED(child.status) or os.WEXITSTATUS(child.status) != 0:
        return f"docker-credential-pullkey exit status {child.status}: {_first_line(stderr_path)}"
    try:
        answer = json.loads(child.stdout)
    except ValueError:
        return "docker-credential-pullkey printed no JSON"
    return "" if answer.get("Username") else "docker-credential-pullkey answered no username"


def _tenant_node(etc: Path, image: str) -> Path:
    """A tenants config over the same node: the JWKS, one credential set (namespace team-a) with its own
    docker config for the image's registry."""
    registry = image.split("/")[0]
    etc.mkdir()
    issuer.write_jwks(etc / "jwks.json", issuer.rsa_key(), issuer.ec_key())
    (etc / "team-a.json").write_text(json.dumps({"auths": {registry: {"username": "team-a", "password": "x"}}}))
    config = etc / "pullkey.yaml"
    config.write_text(
        "apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\n"
        f"tenants:\n  audience: {issuer.AUDIENCE}\n  issuer: {issuer.ISSUER}\n  jwksPath: jwks.json\n"
        "  cacheType: ServiceAccount\n"
        "credentialSets:\n  - name: team-a\n    sources: [{type: DockerConfig, path: team-a.json}]\n"
        "    selector: {namespaces: [team-a]}\n"
    )
    return config


def _check_response(child: Child, stderr_path: str, tenant: bool = False) -> str:
    """'' when the plugin answered like the kubelet expects, else a short reason (never the body)."""
    if not os.WIFEXITED(child.status) or os.WEXITSTATUS(child.status) != 0:
        return f"exit status {child.status}: {_first_line(stderr_path)}"
    try:
        resp = json.loads(child.stdout)
    except ValueError:
        return "stdout is not JSON"
    if resp.get("kind") != "CredentialProviderResponse" or not resp.get("auth"):
        return "response has no auth entries or wrong kind"
    if tenant and "team-a" not in {a.get("username") for a in resp["auth"].values()}:
        return f"the token did not select the credential set: {_first_line(stderr_path)}"
    return ""


if __name__ == "__main__":
    from _harness import table

    result = run(quick="--quick" in sys.argv)
    print(table(result))
    for r in result:
        if r.note:
            print(f"{r.what}: {r.note}")
