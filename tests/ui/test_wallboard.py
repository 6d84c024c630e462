"""The wallboard follows the rep, team and sales models row by row, and reads at 5 m."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QFont, QFontInfo, QFontMetrics
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from gymdesk.domain.contract import Topic
from gymdesk.domain.state import GymState, StateSettings
from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.ui.wallboard import TargetBar, Wallboard, fit_sale_line
from gymdesk.ui.window import MainWindow
from tests.ui.conftest import ZONE, Feeder
from tests.unit.domain.records import dumps, rep_json
from tests.unit.qtmodels.conftest import model_checker

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def gym(feeder: Feeder) -> Feeder:
    """A small gym: two teams with a target each, two reps, two sales."""
    feeder.gym()
    return feeder


def sale(rep_id: str, cents: int, currency: str = "EUR") -> bytes:
    """Return a sale of now."""
    return dumps(
        {
            "rep_id": rep_id,
            "product": "PT Session",
            "currency": currency,
            "amount_cents": cents,
            "sold_at": datetime.now(ZONE).isoformat(),
        }
    )


# The windows a test opened, alive until it has ended: qtbot keeps only weak references,
# and a wallboard window freed as the test returns, while pytest-qt still processes its
# events, crashed the interpreter in its pace chart's paint (each of these tests run
# alone: `pytest tests/ui/test_wallboard.py::test_...`).
_OPEN: list[MainWindow] = []


@pytest.fixture(autouse=True)
def _windows_outlive_the_test() -> Iterator[None]:
    """Close the test's windows in order after it, then let them go."""
    yield
    for window in _OPEN:
        window.allow_close()
        window.close()
    _OPEN.clear()


def open_wallboard(
    qtbot: QtBot, bridge: StateBridge, settings: QSettings, size: tuple[int, int] = (1920, 1080)
) -> tuple[MainWindow, Wallboard]:
    """Open the wallboard role in a window of ``size``."""
    window = MainWindow(bridge, "wallboard", settings)
    qtbot.addWidget(window)
    _OPEN.append(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    wallboard = window.view
    assert isinstance(wallboard, Wallboard)
    return window, wallboard


def rep_order(wallboard: Wallboard) -> list[str]:
    """Return the rep ids in the order their bars stand, top to bottom."""
    position = {
        key: wallboard.reps_grid.getItemPosition(wallboard.reps_grid.indexOf(bar))[0]
        for key, bar in wallboard.rep_bars.items()
    }
    return sorted(position, key=lambda key: position[key])


class Spy:
    """Counts calls to one bar's ``set_values``."""

    def __init__(self, bar: TargetBar) -> None:
        self.calls: list[tuple[Any, ...]] = []
        original = bar.set_values

        def record(*args: Any) -> None:
            self.calls.append(args)
            original(*args)

        bar.set_values = record  # type: ignore[method-assign]


def test_bars_follow_the_models_not_the_states_lists(
    qtbot: QtBot,
    qtmodeltester: ModelTester,
    bridge: StateBridge,
    gym: Feeder,
    settings: QSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _window, wallboard = open_wallboard(qtbot, bridge, settings)
    qtmodeltester.check(wallboard.reps)
    testers = [model_checker(wallboard.teams), model_checker(wallboard.sales)]

    # From here on, reading whole lists from the state would fail the test: every update
    # must arrive as model rows.
    def forbidden(self: GymState) -> None:
        raise AssertionError("the wallboard read a whole list from the state")

    monkeypatch.setattr(GymState, "rep_views", forbidden)
    monkeypatch.setattr(GymState, "team_views", forbidden)

    assert rep_order(wallboard) == ["r1", "r2"]  # Rae Long €12,340 ahead of Sam Park €500
    rae, north = Spy(wallboard.rep_bars["r1"]), Spy(wallboard.team_bars["North"])
    changed: list[tuple[int, int]] = []
    wallboard.reps.dataChanged.connect(lambda a, b, *_: changed.append((a.row(), b.row())))

    gym.put(Topic.SALES, "s3", sale("r2", 2_000_000))

    assert changed == [(wallboard.reps.row_of("r2"),) * 2]  # one row, Sam's
    assert wallboard.rep_bars["r2"].amount_text() == "€20,500"
    assert wallboard.team_bars["Central"].amount_text() == "€20,500 / €10,000"
    assert rae.calls == []  # nobody else's bar was touched
    assert north.calls == []
    assert rep_order(wallboard) == ["r2", "r1"]  # Sam leads now
    assert wallboard.ticker.rows[0] == (
        wallboard.sales.index(0, 0).data(),
        "Sam Park",
        "PT Session",
        "€20,000",
    )
    assert wallboard.total_bar.amount_text() == "€32,840 / €30,000"
    testers.clear()


def test_reps_that_come_and_go_get_and_lose_their_bar(
    qtbot: QtBot, qtmodeltester: ModelTester, bridge: StateBridge, gym: Feeder, settings: QSettings
) -> None:
    _window, wallboard = open_wallboard(qtbot, bridge, settings)
    qtmodeltester.check(wallboard.reps)
    gym.put(Topic.REPS, "r3", rep_json("North", "Uma Vos"))
    assert set(wallboard.rep_bars) == {"r1", "r2", "r3"}
    assert wallboard.rep_bars["r3"].name == "Uma Vos"
    assert wallboard.rep_bars["r3"].figure_px == wallboard.figure_px  # new bars scale too
    gym.put(Topic.REPS, "r3", rep_json("North", "Uma Vos-Berg"))  # renamed in place
    assert wallboard.rep_bars["r3"].name == "Uma Vos-Berg"
    gym.put(Topic.REPS, "r2", None)  # Sam left
    assert set(wallboard.rep_bars) == {"r1", "r3"}
    assert rep_order(wallboard) == ["r1", "r3"]


def test_figures_are_at_least_48_px_at_1080_and_nothing_is_squashed(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder, settings: QSettings
) -> None:
    window, wallboard = open_wallboard(qtbot, bridge, settings)
    qtbot.waitUntil(lambda: wallboard.figure_px == 52)
    bars = [wallboard.total_bar, *wallboard.team_bars.values(), *wallboard.rep_bars.values()]
    for bar in bars:
        assert bar.figure_font().pixelSize() >= 48
        assert bar.height() >= bar.minimumSizeHint().height()
    # The connection state reads from across the room too, not in the desk's small print.
    for label in (window.indicator.label, window.where, window.banner.label):
        assert QFontInfo(label.font()).pixelSize() >= 24
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: wallboard.figure_px == round(52 * 720 / 1080))
    assert all(bar.figure_px == wallboard.figure_px for bar in wallboard.rep_bars.values())
    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: wallboard.figure_px == 52)


def test_an_office_of_five_reps_shows_them_all_at_1080(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder, settings: QSettings
) -> None:
    for n in range(3, 6):
        gym.put(Topic.REPS, f"r{n}", rep_json("North", f"Rep Number {n}"))
    gym.live()  # no stale banner taking a row's height
    window, wallboard = open_wallboard(qtbot, bridge, settings)
    window.menuBar().hide()  # as in full screen on the office TV
    qtbot.waitUntil(
        lambda: all(
            bar.isVisible() and bar.height() >= bar.minimumSizeHint().height()
            for bar in wallboard.rep_bars.values()
        )
    )
    assert len(wallboard.rep_bars) == 5
    assert wallboard.reps_heading.text() == "Reps"
    for bar in wallboard.rep_bars.values():
        assert bar.geometry().bottom() <= wallboard.height()
        assert bar.height() >= bar.minimumSizeHint().height()


def test_a_long_list_of_reps_is_cut_not_squashed_or_clipped(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder, settings: QSettings
) -> None:
    for n in range(3, 13):  # twelve reps: more than a TV shows at 52 px
        gym.put(Topic.REPS, f"r{n}", rep_json("North", f"Rep Number {n}"))
    _window, wallboard = open_wallboard(qtbot, bridge, settings)

    def shown() -> list[str]:
        return [key for key in rep_order(wallboard) if wallboard.rep_bars[key].isVisible()]

    # Settled: what is shown has its full height (a layout pass after the cut).
    qtbot.waitUntil(
        lambda: (
            wallboard.reps_heading.text() != "Reps"
            and all(
                wallboard.rep_bars[key].height()
                >= wallboard.rep_bars[key].minimumSizeHint().height()
                for key in shown()
            )
        )
    )
    shown_now = shown()
    assert 3 <= len(shown_now) < 12
    assert shown_now == rep_order(wallboard)[: len(shown_now)]  # the best ones
    assert wallboard.reps_heading.text() == f"Reps · top {len(shown_now)} of 12"
    for key in shown_now:
        bar = wallboard.rep_bars[key]
        assert bar.geometry().bottom() <= wallboard.height()
        assert bar.height() >= bar.minimumSizeHint().height()
        assert bar.figure_font().pixelSize() >= 48


def test_a_long_product_is_cut_short_and_who_sold_it_reads_whole(qapp: object) -> None:
    metrics = QFontMetrics(QFont("DejaVu Sans", 20))
    rep, product = "Hannah Wolf", "Membership Premium 12 months, paid upfront"
    wide = metrics.horizontalAdvance(f"{rep} · {product}") + 10
    assert fit_sale_line(metrics, rep, product, wide) == (rep, f" · {product}")
    room = metrics.horizontalAdvance(f"{rep} · Membership") + 1
    rep_text, product_text = fit_sale_line(metrics, rep, product, room)
    assert rep_text == rep
    assert product_text.startswith(" · Mem")
    assert product_text.endswith("…")
    assert metrics.horizontalAdvance(rep_text + product_text) <= room
    just_rep = metrics.horizontalAdvance(rep) + 2
    assert fit_sale_line(metrics, rep, product, just_rep) == (rep, "")  # no bare "· …"


def test_the_tv_status_bar_shows_the_state_only(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder, settings: QSettings
) -> None:
    gym.put(Topic.SALES, "bad", b"{not json")
    window, _wallboard = open_wallboard(qtbot, bridge, settings)
    assert bridge.state.rejections.total == 1
    assert window.indicator.label.isVisible()
    assert not window.where.isVisible()
    assert not window.indicator.rejected.isVisible()
    assert window.rejected_action.isEnabled()  # still one keyboard shortcut away
    window.set_role("receptionist")
    assert window.where.isVisible()
    assert window.indicator.rejected.isVisible()
    assert window.indicator.rejected.text() == "⚠ 1 rejected"


def test_a_desk_in_pounds_shows_pounds_and_says_what_the_totals_leave_out(
    qtbot: QtBot, settings: QSettings, qapp: object
) -> None:
    state = GymState(StateSettings(zone=ZONE, currency="GBP"))
    bridge = StateBridge(state, interval_ms=0)
    feeder = Feeder(state, bridge)
    feeder.put(Topic.REPS, "r1", rep_json("North", "Rae Long"))
    feeder.put(Topic.SALES, "s1", sale("r1", 120_000, currency="GBP"))
    feeder.put(Topic.SALES, "s2", sale("r1", 99_900))  # euros at a desk in pounds
    _, wallboard = open_wallboard(qtbot, bridge, settings)
    assert wallboard.total_bar.amount_text() == "£1,200"
    assert wallboard.rep_bars["r1"].amount_text() == "£1,200"
    assert wallboard.pace_heading.text().startswith("Pace this month, k£")
    assert wallboard.subtitle.text().endswith("·  1 sale in other currencies not in the totals")
    # The euro sale is listed in its own currency all the same.
    amounts = {wallboard.sales.index(r, wallboard.sales.AMOUNT).data() for r in range(2)}
    assert amounts == {"£1,200", "€999"}
    feeder.put(Topic.SALES, "s2", sale("r1", 99_900, currency="GBP"))  # corrected
    assert wallboard.total_bar.amount_text() == "£2,199"
    assert "other currencies" not in wallboard.subtitle.text()
