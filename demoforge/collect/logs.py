"""Structured (JSON lines) logs for the collector that never carry event values.

Only fields named in ``LOGGED_FIELDS`` are written, so a careless ``extra=``
cannot leak what a person typed into the logs: the formatter drops anything
it does not know. Messages themselves are fixed strings.
"""

from __future__ import annotations

import json
import logging
import sys

#: Everything a log line may carry besides time, level, logger and message.
LOGGED_FIELDS = (
    "device",
    "status",
    "accepted",
    "duplicates",
    "events",
    "blobs",
    "body_bytes",
    "error_types",
    "error_locs",
    "reason",
    "retry_in_s",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.msg if isinstance(record.msg, str) else type(record.msg).__name__,
        }
        line.update({k: record.__dict__[k] for k in LOGGED_FIELDS if k in record.__dict__})
        return json.dumps(line, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    """Send the demoforge loggers to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("demoforge")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
