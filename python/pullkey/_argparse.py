"""argparse as every ``pullkey`` command line uses it: one-line errors that name the flag.

The kubelet logs a plugin's stderr line by line and ``serve`` runs under a service manager: a usage
block on an error would be several log lines for one mistake. The usage stays in ``--help``.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, NoReturn

from pullkey._sources import write_err

if TYPE_CHECKING:
    from _typeshed import SupportsWrite


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (the kubelet logs a plugin's stderr; the usage is ``--help``)."""

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        # argparse drops an OSError here (--help on a full disk would exit 0 with nothing written):
        # let it reach the one-line report of pullkey._launch.launch.
        if message:
            (file or sys.stderr).write(message)

    def error(self, message: str) -> NoReturn:
        hint = ""
        if message.startswith("unrecognized arguments: "):
            known = long_flags(self)
            for arg in message.removeprefix("unrecognized arguments: ").split():
                name = arg.partition("=")[0]
                matches = sorted(flag for flag in known if name.startswith("--") and flag.startswith(name))
                if matches:
                    hint = f" (flags are never abbreviated: {name} is not {' or '.join(matches)})"
                    break
        write_err(f"{self.prog}: error: {message}{hint}")
        self.exit(2)


def long_flags(parser: argparse.ArgumentParser) -> set[str]:
    """Every ``--flag`` of ``parser`` and of its subcommands."""
    flags = {flag for flag in parser._option_string_actions if flag.startswith("--")}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                flags |= long_flags(sub)
    return flags
