"""A logging filter that turns a storm of repeated client errors into one line per interval.

During an outage aiokafka logs the same connection error dozens of times a second; the
connection state already tells the user, so the log keeps one line per message template
per interval and says how many it held back.
"""

from __future__ import annotations

import logging
import time
from typing import Final

DEFAULT_INTERVAL_S: Final = 30.0


class RateLimitFilter(logging.Filter):
    """Pass the first record of each message template per interval; count the rest."""

    def __init__(self, interval_s: float = DEFAULT_INTERVAL_S, prefix: str = "aiokafka") -> None:
        super().__init__()
        self.interval_s = interval_s
        self.prefix = prefix
        self._last: dict[tuple[str, object], float] = {}
        self._held: dict[tuple[str, object], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """Return whether ``record`` is logged; annotate it with what was held back."""
        if not record.name.startswith(self.prefix):
            return True
        key = (record.name, record.msg)
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.interval_s:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        self._last[key] = now
        held = self._held.pop(key, 0)
        if held:
            record.msg = f"{record.msg} ({held} similar messages held back)"
        return True


def throttle_client_logs(
    handler: logging.Handler, interval_s: float = DEFAULT_INTERVAL_S
) -> RateLimitFilter:
    """Rate-limit the aiokafka records that reach ``handler`` (one filter per handler)."""
    for existing in handler.filters:
        if isinstance(existing, RateLimitFilter):
            return existing
    flt = RateLimitFilter(interval_s)
    handler.addFilter(flt)
    return flt
