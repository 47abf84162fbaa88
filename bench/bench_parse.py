"""Image reference parsing from Python: pullkey vs docker-image-py, docker-py's splitter and a regex port.

Rows (see bench/README.md):
* ``parse_reference`` single calls over the corpus (valid and invalid inputs; an invalid input costs
  its exception), against each peer doing its own normalising parse of the same inputs;
* ``parse_references`` bulk call (time per reference).
Budgets (`docs/architecture.md`): ≤ 1 µs per single call, ≤ 0.25 µs per reference in bulk, ≥ 30x docker-image-py.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from _harness import Row, calibrate, probe, pullkey_api, repeat_loop, time_loops, verdicts
from peers import regex_reference as rr

SUITE = "parse"


def _loop_over(fn: Callable[[str], Any], refs: list[str]) -> Callable[[], None]:
    """One pass over the corpus; invalid inputs raise and are swallowed (same shape for everyone)."""

    def loop() -> None:
        for s in refs:
            try:
                fn(s)
            except Exception:
                continue

    return loop


def _peers() -> dict[str, tuple[str, Callable[[str], Any]]]:
    """name → (label for the table, callable doing one normalising parse)."""
    out: dict[str, tuple[str, Callable[[str], Any]]] = {}
    try:
        from docker_image import reference as di_reference

        out["docker_image"] = (
            "docker-image-py 0.2.0 `Reference.parse_normalized_named`",
            di_reference.Reference.parse_normalized_named,
        )
    except ImportError:
        pass
    try:
        from docker.auth import resolve_repository_name
        from docker.utils import parse_repository_tag

        def docker_py(s: str) -> Any:
            repo, tag = parse_repository_tag(s)
            return resolve_repository_name(repo), tag

        out["docker_py"] = (
            "docker 7.1.0 `parse_repository_tag` + `resolve_repository_name` (splitter, no validation)",
            docker_py,
        )
    except ImportError:
        pass
    out["regex_port"] = ("bench regex port (`peers/regex_reference.py`, re + fullmatch)", rr.parse_normalized_named)
    return out


def _outcome_pullkey(pk: Any, s: str) -> tuple | None:
    try:
        r = pk.parse_reference(s)
    except ValueError:
        return None
    return (r.domain, r.path, r.tag, r.digest)


def _outcome_regex(s: str) -> tuple | None:
    try:
        r = rr.parse_normalized_named(s)
    except rr.ReferenceError:
        return None
    return (r.domain, r.path, r.tag, r.digest)


def _outcome_docker_image(fn: Callable[[str], Any], s: str) -> tuple | None:
    try:
        r = fn(s)
    except Exception:
        return None
    domain, path = r.split_hostname() if hasattr(r, "split_hostname") else ("?", "?")
    return (domain, path, r.get("tag"), r.get("digest"))


def run(quick: bool = False) -> list[Row]:
    n = 2_000 if quick else 10_000
    repeats = 5 if quick else 9
    target = 0.03 if quick else 0.12
    refs = corpus.references(n)
    n_label = f"{n:,} refs (~5% invalid)"
    pk = pullkey_api()
    broken = ""
    if pk is not None:
        broken = probe(lambda: pk.parse_reference("busybox")) or probe(lambda: pk.parse_references(["busybox", "B"]))
        if broken:
            pk = None
    peers = _peers()

    loops: dict[str, tuple[Callable[[], object], int]] = {}

    def add(name: str, loop: Callable[[], object]) -> None:
        times = calibrate(loop, target_s=target)
        loops[name] = (repeat_loop(loop, times), n * times)

    if pk is not None:
        add("pullkey_single", _loop_over(pk.parse_reference, refs))

        def bulk() -> None:
            pk.parse_references(refs)

        add("pullkey_bulk", bulk)

        def single_keep(fn: Callable[[str], Any] = pk.parse_reference, err: type = pk.InvalidReference) -> None:
            out = []  # the same list parse_references returns, built with single calls
            for s in refs:
                try:
                    out.append(fn(s))
                except err as e:
                    out.append(e)

        add("pullkey_single_keep", single_keep)
    for name, (_label, fn) in peers.items():
        add(name, _loop_over(fn, refs))

        if name == "regex_port":

            def regex_bulk(fn: Callable[[str], Any] = fn) -> None:
                out = []
                for s in refs:
                    try:
                        out.append(fn(s))
                    except rr.ReferenceError as e:
                        out.append(e)

            add("regex_bulk", regex_bulk)

    med = time_loops(loops, repeats=repeats)
    pk_single = med.get("pullkey_single")
    pk_bulk = med.get("pullkey_bulk")

    rows: list[Row] = []
    for name, (label, _fn) in peers.items():
        peer_t = med.get(name)
        if name == "docker_image":
            budget = "≤ 1 µs per call; ≥ 30× docker-image-py"
            check, detail = None, ""
            if pk_single is not None and peer_t is not None:
                check, detail = verdicts(("≤ 1 µs", pk_single <= 1000), ("≥ 30×", peer_t / pk_single >= 30))
        else:
            budget, check, detail = "context", None, ""
        rows.append(
            Row(
                SUITE,
                "`parse_reference` (single calls, normalising)",
                n_label,
                "ns",
                pk_single,
                label,
                peer_t,
                budget,
                check,
                check_detail=detail,
            )
        )
    rows.append(
        Row(
            SUITE,
            "`parse_references` (bulk, per reference)",
            n_label,
            "ns",
            pk_bulk,
            "bench regex port, list-building loop",
            med.get("regex_bulk"),
            "≤ 0.25 µs per reference",
            None if pk_bulk is None else bool(pk_bulk <= 250),
        )
    )

    rows.append(
        Row(
            SUITE,
            "`parse_references` (bulk, per reference)",
            n_label,
            "ns",
            pk_bulk,
            "pullkey `parse_reference` loop building the same list",
            med.get("pullkey_single_keep"),
            note="keeping every result alive costs more than parsing: single calls whose results are dropped "
            "reuse the same freed memory, so compare bulk with single calls that keep their results",
        )
    )

    # Do the contenders agree? (a faster parser that parses less would not be a fair comparison)
    notes = [f"pullkey not measured ({broken})"] if broken else []
    regex_out = [_outcome_regex(s) for s in refs]
    notes.append(f"regex port: {sum(o is None for o in regex_out)} of {n} inputs invalid")
    if pk is not None:
        pk_out = [_outcome_pullkey(pk, s) for s in refs]
        diff = [s for s, a, b in zip(refs, pk_out, regex_out, strict=True) if a != b]
        notes.append(
            f"pullkey vs regex port: {n - len(diff)}/{n} same outcome (domain, path, tag, digest or error)"
            + (f"; differ on e.g. {sorted(set(diff))[:5]!r}" if diff else "")
        )
    if "docker_image" in peers:
        di_fn = peers["docker_image"][1]
        di_out = [_outcome_docker_image(di_fn, s) for s in refs]
        diff = [s for s, a, b in zip(refs, di_out, regex_out, strict=True) if a != b]
        notes.append(
            f"docker-image-py vs regex port: {n - len(diff)}/{n} same outcome"
            + (f"; differ on e.g. {sorted(set(diff))[:5]!r}" if diff else "")
        )
    if rows:
        rows[0].note = "; ".join(notes)
    return rows


if __name__ == "__main__":
    from _harness import table

    result = run(quick="--quick" in sys.argv)
    print(table(result))
    for r in result:
        if r.note:
            print(r.note)
