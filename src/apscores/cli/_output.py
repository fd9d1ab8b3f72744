"""Where the command's words go: log lines (plain or JSON) and a progress bar on stderr.

Log lines go to stderr so stdout carries only the summary, which scripts can parse
(``--json``). The fetch progress display (:mod:`apscores.cli._progress`) is drawn only when
stderr is a terminal and never in ``--quiet`` mode, so cron mail stays empty unless
something went wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any, TextIO

__all__ = ["LOGGER", "JsonFormatter", "fail", "remove_logging", "setup_logging"]

LOGGER = logging.getLogger("apscores.cli")

_EXTRA_FIELDS = ("di_code", "event", "path", "download_id", "exit_code")


#: ``--log-format json`` is on: failures are JSON lines too, like every other log line.
_FAILURES_AS_JSON = [False]


def fail(message: str) -> None:
    """One line on stderr for a failure: ``apscores: <what>: <why>``, naming the path or
    option the user gave (a JSON object with ``--log-format json``)."""
    if _FAILURES_AS_JSON[0]:
        LOGGER.error("%s", message, extra={"event": "failed"})
        return
    sys.stderr.write(f"apscores: {message}\n")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, message and any known extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        for name in _EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                data[name] = str(value) if not isinstance(value, int) else value
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def setup_logging(stream: TextIO, *, log_format: str, level: int) -> logging.Handler:
    """Send ``apscores`` log records to ``stream``; returns the handler (to remove later)."""
    handler = logging.StreamHandler(stream)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S")
        )
    handler.setLevel(level)
    _FAILURES_AS_JSON[0] = log_format == "json"
    root = logging.getLogger("apscores")
    root.addHandler(handler)
    root.setLevel(min(level, logging.INFO))
    return handler


def remove_logging(handler: logging.Handler) -> None:
    """Undo :func:`setup_logging` (``main`` may be called many times in one process)."""
    logging.getLogger("apscores").removeHandler(handler)
