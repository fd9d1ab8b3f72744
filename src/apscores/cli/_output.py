"""Where the command's words go: log lines (plain or JSON) and a progress bar on stderr.

Log lines go to stderr so stdout carries only the summary, which scripts can parse
(``--json``). The progress bar is drawn only when stderr is a terminal and never in
``--quiet`` mode, so cron mail stays empty unless something went wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any, TextIO

__all__ = ["LOGGER", "JsonFormatter", "Progress", "fail", "remove_logging", "setup_logging"]

LOGGER = logging.getLogger("apscores.cli")

_EXTRA_FIELDS = ("di_code", "event", "path", "download_id", "exit_code")


def fail(message: str) -> None:
    """One line on stderr for a problem the user can fix (a bad file, a bad option)."""
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
    root = logging.getLogger("apscores")
    root.addHandler(handler)
    root.setLevel(min(level, logging.INFO))
    return handler


def remove_logging(handler: logging.Handler) -> None:
    """Undo :func:`setup_logging` (``main`` may be called many times in one process)."""
    logging.getLogger("apscores").removeHandler(handler)


class Progress:
    """A one-line, hand-drawn progress bar: ``[#####-----] 3/6 1234: downloading``."""

    WIDTH = 24

    def __init__(self, stream: TextIO, total: int, *, enabled: bool) -> None:
        self.stream = stream
        self.total = max(total, 1)
        self.done = 0
        self.enabled = enabled
        self._drawn = False

    def advance(self, label: str, steps: int = 1) -> None:
        """Count ``steps`` finished steps and show ``label``."""
        self.done = min(self.done + steps, self.total)
        if not self.enabled:
            return
        filled = self.WIDTH * self.done // self.total
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {label[:40]:<40}")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Clear the bar so the summary starts on a clean line."""
        if self._drawn:
            self.stream.write("\r" + " " * (self.WIDTH + 52) + "\r")
            self.stream.flush()
            self._drawn = False
