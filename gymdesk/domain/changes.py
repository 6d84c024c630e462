"""What a batch of records changed, by view and key, so that views update row by row."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Final


class View(StrEnum):
    """A keyed collection that a screen shows; its rows are derived from the tables."""

    CLASSES = "classes"
    INSTRUCTORS = "instructors"
    MEMBERS = "members"
    BOOKINGS = "bookings"
    REPS = "reps"
    TEAMS = "teams"
    SALES = "sales"
    TARGETS = "targets"
    PERIOD = "period"
    REJECTED = "rejected"


# Past this many keys in one batch a view is told "everything may have changed" instead:
# a catch-up of a million bookings must not build a million-entry set for the UI.
OVERFLOW_KEYS: Final = 4096


class Changes:
    """Keys touched per view since the last report; merge-able, and bounded in size."""

    __slots__ = ("_keys", "_overflow")

    def __init__(self) -> None:
        self._keys: dict[View, set[str]] = {}
        self._overflow: set[View] = set()

    def touch(self, view: View, key: str) -> None:
        """Record that the row ``key`` of ``view`` may have changed (inserted, updated, gone)."""
        if view in self._overflow:
            return
        keys = self._keys.get(view)
        if keys is None:
            self._keys[view] = {key}
        else:
            keys.add(key)
            if len(keys) > OVERFLOW_KEYS:
                self.touch_all(view)

    def touch_many(self, view: View, keys: Iterable[str]) -> None:
        """Record that the rows ``keys`` of ``view`` may have changed (one call per batch)."""
        if view in self._overflow:
            return
        touched = self._keys.get(view)
        if touched is None:
            touched = self._keys[view] = set()
        touched.update(keys)
        if len(touched) > OVERFLOW_KEYS:
            self.touch_all(view)
        elif not touched:
            del self._keys[view]

    def touch_all(self, view: View) -> None:
        """Record that any row of ``view`` may have changed."""
        self._overflow.add(view)
        self._keys.pop(view, None)

    def merge(self, other: Changes) -> None:
        """Add everything ``other`` recorded to this report."""
        for view in other._overflow:
            self.touch_all(view)
        for view, keys in other._keys.items():
            for key in keys:
                self.touch(view, key)

    def keys(self, view: View) -> frozenset[str] | None:
        """Return the touched keys of ``view``, or None when every row may have changed."""
        if view in self._overflow:
            return None
        return frozenset(self._keys.get(view, ()))

    def touched_all(self, view: View) -> bool:
        """Return whether every row of ``view`` may have changed (keys need no tracking)."""
        return view in self._overflow

    def touched(self, view: View) -> bool:
        """Return whether anything of ``view`` was touched."""
        return view in self._overflow or view in self._keys

    def views(self) -> frozenset[View]:
        """Return every view that was touched."""
        return frozenset(self._overflow | self._keys.keys())

    def __bool__(self) -> bool:
        return bool(self._keys or self._overflow)

    def __repr__(self) -> str:
        parts = [f"{v}=*" for v in sorted(self._overflow)]
        parts += [f"{v}={sorted(k)}" for v, k in sorted(self._keys.items())]
        return f"Changes({', '.join(parts)})"
