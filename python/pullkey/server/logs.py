"""Logging: one line per record on stderr (``text`` or ``json``), pullkey's loggers at the chosen level,
everything else (grpc, asyncio) at WARNING unless a much higher verbosity is asked for.

Records carry their structured data in ``extra={"fields": {...}}``; no secret is ever put there
(requests are logged by method and status, errors by class and message).
"""

from __future__ import annotations

import datetime
import logging
import sys

#: ``--v`` (klog-style verbosity) at which pullkey's own loggers go to DEBUG (every call, each rejection).
DEBUG_VERBOSITY = 4
#: ``--v`` at which third-party loggers (grpc, asyncio) go to INFO, and to DEBUG.
THIRD_PARTY_INFO_VERBOSITY = 8
THIRD_PARTY_DEBUG_VERBOSITY = 10

#: What ``pullkey serve --help`` says about ``--v``.
VERBOSITY_HELP = (
    f"klog-style verbosity: below {DEBUG_VERBOSITY} --log-level decides; {DEBUG_VERBOSITY}+ = pullkey's debug "
    f"records (each call, each rejected request); {THIRD_PARTY_INFO_VERBOSITY}+ = also grpc and asyncio at INFO; "
    f"{THIRD_PARTY_DEBUG_VERBOSITY}+ = also them at DEBUG (else they log warnings and errors only)"
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, msg and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        import orjson  # NOTE: only the json log format needs it

        doc: dict[str, object] = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        doc.update(getattr(record, "fields", None) or {})
        if record.exc_info and record.exc_info[1] is not None:
            doc["error"] = type(record.exc_info[1]).__name__
        return orjson.dumps(doc, default=str).decode()


class TextFormatter(logging.Formatter):
    """``TIME LEVEL logger: msg key=value ...`` on one line (values with spaces or newlines are quoted)."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        parts = [f"{ts}Z {record.levelname} {record.name}: {record.getMessage()}"]
        for key, value in (getattr(record, "fields", None) or {}).items():
            text = str(value)
            parts.append(f"{key}={text!r}" if (" " in text or "\n" in text or not text) else f"{key}={text}")
        return " ".join(parts)


def levels(log_level: str = "info", verbosity: int | None = None) -> tuple[int, int]:
    """(pullkey's level, every other logger's level) for ``--log-level`` and ``--v``."""
    level = logging.getLevelNamesMapping()[log_level.upper()]
    v = verbosity or 0
    if v >= DEBUG_VERBOSITY:
        level = logging.DEBUG
    others = max(level, logging.WARNING)
    if v >= THIRD_PARTY_DEBUG_VERBOSITY:
        others = logging.DEBUG
    elif v >= THIRD_PARTY_INFO_VERBOSITY:
        others = logging.INFO
    return level, others


def configure_logging(fmt: str = "text", log_level: str = "info", verbosity: int | None = None) -> None:
    """Send every log record to stderr in ``fmt``: ``pullkey.*`` at its level, the rest at theirs."""
    level, others = levels(log_level, verbosity)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(others)
    logging.getLogger("pullkey").setLevel(level)
