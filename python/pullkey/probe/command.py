"""``pullkey probe``: the command line over :func:`pullkey.probe.probe`.

Building the parser imports nothing heavy; ``urllib3`` and the YAML parser load only when the
command runs. Exit status: 0 when every image would pull, 1 when one would not (or the probe could
not run), 2 for a usage error, so the command can gate a CI pipeline or a deploy.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pullkey.options import Options

DESCRIPTION = """\
Would the kubelet pull these images? For each image pullkey resolves the credentials exactly as the
kubelet would (same sources, same order; `pullkey explain` shows them), then asks the image's
registry, as a container runtime would, whether the manifest can be pulled with each credential in
turn (GET /v2/, the WWW-Authenticate challenge, Basic or a Bearer token from the registry's token
service, HEAD of the manifest). With no matching credential it tries anonymously, as the kubelet
does. HTTPS is verified against the system trust store (SSL_CERT_FILE / SSL_CERT_DIR override it);
plain HTTP only for registries named with --insecure-registry. Never prints a secret."""

EPILOG = """\
exit status: 0 every image would pull; 1 at least one would not; 2 usage error.
reasons: unauthorized, forbidden, manifest_unknown, unreachable, tls_error, timeout,
         deadline_exceeded, registry_error, invalid_reference"""


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
        return value

    return parse


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    add_source_flags: Callable[[argparse.ArgumentParser], None],
) -> argparse.ArgumentParser:
    """Adds ``probe`` to the CLI's subcommands, with the shared source flags."""
    p = sub.add_parser(
        "probe",
        allow_abbrev=False,
        help="would the kubelet's credentials pull these images? (asks the registries)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_source_flags(p)
    p.add_argument(
        "-f",
        "--filename",
        action="append",
        default=[],
        metavar="FILE",
        help="Kubernetes manifests (YAML or JSON, multi-document, List; - for stdin): probe their images",
    )
    p.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="reach this registry over plain HTTP (repeatable)",
    )
    p.add_argument("--timeout", type=_positive(float), default=10.0, help="seconds per request (default 10)")
    p.add_argument("--deadline", type=_positive(float), default=120.0, help="seconds for the whole run (default 120)")
    p.add_argument(
        "--parallel", type=_positive(int), default=4, metavar="N", help="registries probed at once (default 4)"
    )
    p.add_argument("--json", action="store_true", help="one JSON object per image")
    p.add_argument("images", nargs="*", metavar="IMAGE", help="image references (- reads them from stdin)")
    p.set_defaults(func=run)
    return p


def _resolver(options: Options) -> Any:
    from pullkey.service import Resolver

    resolver = Resolver(options)
    resolver.load()
    return resolver


def run(args: argparse.Namespace, options: Options) -> int:
    """``pullkey probe``; ``options`` are the shared source flags, as the CLI's loader read them."""
    from pullkey.probe import engine, manifests, report

    if "-" in args.filename and "-" in args.images:
        sys.stderr.write("pullkey probe: standard input can hold manifests (-f -) or images (-), not both\n")
        return 2
    warnings: list[str] = []
    found = manifests.images_from_files(args.filename, warnings=warnings)
    origins = manifests.group(found)
    images = list(origins)
    for image in args.images:
        if image == "-":
            images.extend(line.strip() for line in sys.stdin if line.strip())
        else:
            images.append(image)
    if not images:
        if args.filename:
            sys.stderr.write("pullkey probe: the manifests name no container image\n")
            return 1
        sys.stderr.write("pullkey probe: name an IMAGE or a manifest file (-f FILE); see pullkey probe --help\n")
        return 2
    probe_options = engine.ProbeOptions(
        insecure_registries=tuple(args.insecure_registry),
        timeout=args.timeout,
        deadline=args.deadline,
        parallelism=min(args.parallel, engine.MAX_PARALLELISM),
    )
    resolver = _resolver(options)
    for warning in [*resolver.state.warnings, *warnings]:
        sys.stderr.write(f"pullkey: warning: {warning}\n")
    progress = report.Progress(len(dict.fromkeys(images)), sys.stderr)
    try:
        results = engine.probe(images, resolver, probe_options, origins=origins, on_result=progress.advance)
    finally:
        progress.close()
    for result in results:
        if args.json:
            sys.stdout.buffer.write(report.json_line(result))
        else:
            sys.stdout.write("\n".join(report.text_lines(result)) + "\n")
    if not args.json:
        sys.stdout.write(report.summary(results) + "\n")
    sys.stdout.flush()
    return 0 if all(r.ok for r in results) else 1
