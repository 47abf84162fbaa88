"""One entry point for pullkey's benchmarks.

    python bench/run.py [--quick] [--strict] [parse|keyring|exec|grpc|all ...]

Runs the chosen suites (default: all), prints the results table and (re)writes
``bench/results/RESULTS.md``. Each suite also leaves ``bench/results/<suite>.json`` (not committed), so
running one suite refreshes its rows and keeps the last rows of the others, each marked with when it
was measured. See bench/README.md for what every row means.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _harness import Row, environment, fmt_check, table  # noqa: E402

RESULTS = HERE / "results"
# suite name → module exposing `run(quick: bool) -> list[Row]`, in table order.
SUITES = {"parse": "bench_parse", "keyring": "bench_keyring", "exec": "bench_exec"}


# Suites owned elsewhere with their own command line and report; run on request only (never by `all`,
# since they need extra tools), and linked from RESULTS.md when their report exists.
EXTERNAL = {"grpc": ("grpc_bench.py", "grpc.md", ["--duration", "2", "--reps", "3"])}


def _optional_suites() -> dict[str, str]:
    """Sibling modules that follow this harness's interface (`run(quick) -> list[Row]`) join `all`."""
    extra = {}
    for name, (script, _, _) in EXTERNAL.items():
        path = HERE / script
        if path.exists() and "\ndef run(" in path.read_text(errors="replace"):
            extra[name] = path.stem
    return extra


def _run_external(name: str, quick: bool) -> int:
    script, report, quick_args = EXTERNAL[name]
    path = HERE / script
    if not path.exists():
        print(f"{name}: {path} not in this checkout, skipped")
        return 0
    cmd = [sys.executable, str(path), *(quick_args if quick else [])]
    print(f"== {name}: {' '.join(cmd)} (writes bench/results/{report})", flush=True)
    return subprocess.call(cmd)


def _load_previous(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _write_markdown(sections: list[tuple[str, dict]], env: dict[str, str]) -> str:
    out = [
        "# pullkey benchmark results",
        "",
        "Written by `python bench/run.py` (see `bench/README.md` for the method and what each row means).",
        "Times are medians of repeated timed loops, per operation; every ratio compares pullkey with its peer",
        'measured in the same process and the same run ("faster" = peer time ÷ pullkey time).',
        "",
        "## Environment",
        "",
    ]
    out += [f"- {k}: {v}" for k, v in env.items()]
    all_rows: list[Row] = []
    for name, data in sections:
        rows = [Row(**r) for r in data["rows"]]
        all_rows += rows
        out += [
            "",
            f"## {name}",
            "",
            f"Measured {data['measured']} ({'quick' if data['quick'] else 'full'} run, {data['seconds']:.0f} s; "
            f"load average at start {data.get('load', '?')} on {os.cpu_count()} CPUs).",
            "",
        ]
        out.append(table(rows))
        notes = [f"- {r.what} / {r.peer}: {r.note}" for r in rows if r.note]
        if notes:
            out += ["", "Notes:", "", *notes]
    for name, (script, report, _) in EXTERNAL.items():
        if (RESULTS / report).exists():
            out += ["", f"## {name}", "", f"Measured by `bench/{script}`: see [{report}]({report})."]
    budgeted = [r for r in all_rows if r.budget != "context"]
    out += ["", "## Budgets", ""]
    for r in budgeted:
        verdict = fmt_check(r.check) if r.check is not None else "PENDING"
        detail = f" ({r.check_detail})" if r.check_detail else ""
        out.append(f"- {verdict}: {r.what} — {r.budget}{detail}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    suites = {**SUITES, **_optional_suites()}
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer inputs and repeats (a smoke run, noisier)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a budget row fails")
    ap.add_argument(
        "suite", nargs="*", help=f"any of {', '.join([*suites, *EXTERNAL, 'all'])} (default: all = {', '.join(suites)})"
    )
    args = ap.parse_args(argv)
    wanted = args.suite or ["all"]
    unknown = [s for s in wanted if s not in suites and s not in EXTERNAL and s != "all"]
    if unknown:
        ap.error(f"unknown suite {', '.join(unknown)}; choose from {', '.join([*suites, *EXTERNAL, 'all'])}")
    chosen = list(suites) if "all" in wanted else list(dict.fromkeys(wanted))

    RESULTS.mkdir(exist_ok=True)
    status = 0
    for name in [w for w in wanted if w in EXTERNAL and w not in suites]:
        status |= _run_external(name, args.quick)
    chosen = [c for c in chosen if c in suites]
    for name in chosen:
        print(f"== {name} ({'quick' if args.quick else 'full'}) ...", flush=True)
        t0 = time.perf_counter()
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        module = importlib.import_module(suites[name])
        rows = module.run(quick=args.quick)
        data = {
            "suite": name,
            "measured": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "quick": args.quick,
            "load": load,
            "seconds": time.perf_counter() - t0,
            "rows": [r.to_json() if isinstance(r, Row) else r for r in rows],
        }
        (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=1) + "\n")
        print(table([Row(**r) for r in data["rows"]]), flush=True)
        print(flush=True)

    sections = [(name, data) for name in suites if (data := _load_previous(name)) is not None]
    md = _write_markdown(sections, environment())
    (RESULTS / "RESULTS.md").write_text(md)
    print(f"wrote {RESULTS / 'RESULTS.md'}")
    failed = [r for _, d in sections for r in d["rows"] if r.get("check") is False]
    return 1 if (failed and args.strict) or status else 0


if __name__ == "__main__":
    sys.exit(main())
