"""How numbers, money and times read on screen: one place, so every view agrees."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Final

from gymdesk.domain.state import DEFAULT_CURRENCY as DEFAULT_CURRENCY  # the default for amounts

NO_VALUE: Final = "—"
"""What an undefined value reads (no target, no rate yet)."""

_SYMBOLS: Final[dict[str, str]] = {"EUR": "€", "USD": "$", "GBP": "£"}
# Fixed names: strftime's %a/%b follow the C locale, which Qt sets from the environment.
_WEEKDAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def format_money(cents: int, currency: str = DEFAULT_CURRENCY, *, with_cents: bool = False) -> str:
    """Return an amount like ``€1,234`` (whole units unless ``with_cents``: ``€1,234.50``)."""
    sign = "-" if cents < 0 else ""
    magnitude = abs(cents)
    number = f"{magnitude / 100:,.2f}" if with_cents else f"{(magnitude + 50) // 100:,d}"
    symbol = _SYMBOLS.get(currency)
    if symbol is None:
        return f"{sign}{currency} {number}"
    return f"{sign}{symbol}{number}"


def currency_symbol(currency: str) -> str:
    """Return a currency's symbol (``€``), or its code and a space where it has none known."""
    return _SYMBOLS.get(currency, f"{currency} ")


def format_optional_money(cents: int | None, currency: str = DEFAULT_CURRENCY) -> str:
    """Return an amount, or a dash when there is none (a rep without a target)."""
    return NO_VALUE if cents is None else format_money(cents, currency)


def format_percent(fraction: float | None) -> str:
    """Return a share like ``83%``, or a dash when it is undefined."""
    return NO_VALUE if fraction is None else f"{fraction * 100:.0f}%"


def format_time(moment: datetime, zone: tzinfo) -> str:
    """Return the wall-clock time ``HH:MM`` of ``moment`` in ``zone``."""
    local = moment.astimezone(zone)
    return f"{local.hour:02d}:{local.minute:02d}"


def format_day(day: date) -> str:
    """Return a short day like ``Fri 10 May``."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def format_datetime(moment: datetime, zone: tzinfo) -> str:
    """Return a day and time like ``Fri 10 May 18:00`` in ``zone``."""
    local = moment.astimezone(zone)
    return f"{format_day(local.date())} {local.hour:02d}:{local.minute:02d}"


def format_on_day(moment: datetime, zone: tzinfo, day: date | None) -> str:
    """Return ``moment`` as short as ``day`` allows: ``18:00``, ``Fri 18:00``, ``Fri 10 May``.

    The time alone on ``day``, the weekday and time within six days of it, the day alone
    further off (a roster's last change: the full timestamp is in its tooltip); with no
    ``day``, day and time.
    """
    local = moment.astimezone(zone)
    if day is None:
        return format_datetime(local, zone)
    time = f"{local.hour:02d}:{local.minute:02d}"
    if local.date() == day:
        return time
    if abs((local.date() - day).days) < 7:
        return f"{_WEEKDAYS[local.weekday()]} {time}"
    return format_day(local.date())


def format_timestamp(moment: datetime, zone: tzinfo) -> str:
    """Return a full local timestamp like ``2024-05-10 18:00:05`` for details."""
    return moment.astimezone(zone).isoformat(sep=" ", timespec="seconds")[:19]


def local_day(moment: datetime, zone: tzinfo) -> date:
    """Return the calendar day of ``moment`` in ``zone``."""
    return moment.astimezone(zone).date()
