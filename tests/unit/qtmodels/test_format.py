"""How money, shares and times read: exact strings."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from gymdesk.qtmodels.format import (
    format_datetime,
    format_day,
    format_money,
    format_on_day,
    format_optional_money,
    format_percent,
    format_time,
    format_timestamp,
    local_day,
)

BERLIN = ZoneInfo("Europe/Berlin")
MOMENT = datetime(2024, 5, 10, 22, 30, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cents", "currency", "text"),
    [
        (123_449, "EUR", "€1,234"),
        (123_450, "EUR", "€1,235"),
        (0, "EUR", "€0"),
        (-1_250, "EUR", "-€13"),
        (500, "USD", "$5"),
        (100_000_00, "GBP", "£100,000"),
        (100_000, "CHF", "CHF 1,000"),
    ],
)
def test_money_in_whole_units(cents: int, currency: str, text: str) -> None:
    assert format_money(cents, currency) == text


def test_money_with_cents_and_missing_amounts() -> None:
    assert format_money(123_456, with_cents=True) == "€1,234.56"
    assert format_money(-5, with_cents=True) == "-€0.05"
    assert format_optional_money(None) == "—"
    assert format_optional_money(1_000) == "€10"


def test_percent() -> None:
    assert format_percent(0.8349) == "83%"
    assert format_percent(1.0) == "100%"
    assert format_percent(None) == "—"


def test_times_are_shown_in_the_given_zone() -> None:
    assert format_time(MOMENT, UTC) == "22:30"
    assert format_time(MOMENT, BERLIN) == "00:30"
    assert format_datetime(MOMENT, BERLIN) == "Sat 11 May 00:30"
    assert format_timestamp(MOMENT, BERLIN) == "2024-05-11 00:30:05"
    assert local_day(MOMENT, BERLIN) == date(2024, 5, 11)
    assert format_day(date(2024, 12, 30)) == "Mon 30 Dec"


def test_a_moment_on_the_given_day_reads_as_a_time_else_with_its_day() -> None:
    assert format_on_day(MOMENT, BERLIN, date(2024, 5, 11)) == "00:30"
    assert format_on_day(MOMENT, UTC, date(2024, 5, 11)) == "Fri 22:30"  # the day before
    assert format_on_day(MOMENT, UTC, date(2024, 5, 16)) == "Fri 22:30"  # within 6 days
    assert format_on_day(MOMENT, UTC, date(2024, 5, 4)) == "Fri 22:30"  # after, too
    assert format_on_day(MOMENT, UTC, date(2024, 5, 17)) == "Fri 10 May"  # a week off
    assert format_on_day(MOMENT, BERLIN, None) == "Sat 11 May 00:30"
