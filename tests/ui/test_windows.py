"""Each role's window over a fed state: rows, figures, banners, alerts and saved state."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TypeVar

import pytest
from PySide6.QtCore import QEvent, QSettings, Qt
from PySide6.QtGui import QGuiApplication, QHelpEvent
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QToolTip, QWidget
from pytestqt.qtbot import QtBot

from gymdesk.domain.contract import Topic
from gymdesk.domain.status import Phase, ReaderStatus
from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.qtmodels.models import ClassBoardModel, ClassViewRole
from gymdesk.ui.alerts import AlertPresenter
from gymdesk.ui.delegates import NEXT, NOW, row_tints
from gymdesk.ui.instructor import InstructorPage
from gymdesk.ui.receptionist import ReceptionistBoard
from gymdesk.ui.rejected import RejectedDialog
from gymdesk.ui.status import StaleBanner
from gymdesk.ui.theme import LIGHT
from gymdesk.ui.toast import ToastAdapter, TrayAdapter, TrayUnavailable, make_adapter
from gymdesk.ui.wallboard import TargetBar, Wallboard
from gymdesk.ui.window import DeskOptions, MainWindow
from tests.ui.conftest import ZONE, Feeder, now_local
from tests.unit.domain.records import booking_json, dumps

# The offscreen platform says it cannot size top-level windows from hints: not our noise.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

NOON = now_local().replace(hour=12, minute=10)
W = TypeVar("W", bound=QWidget)


def clock() -> datetime:
    """A fixed 'now': 12:10 today, so nothing crosses midnight."""
    return NOON


def shown(qtbot: QtBot, widget: W, size: tuple[int, int]) -> W:
    """Show a view at ``size`` on screen (offscreen) and return it once it is exposed."""
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def board_rows(board: ReceptionistBoard) -> list[tuple[str, str, str]]:
    """Return (time, title, booked) of the shown rows."""
    proxy = board.proxy
    return [
        (
            proxy.index(r, ClassBoardModel.TIME).data(),
            proxy.index(r, ClassBoardModel.CLASS).data(),
            proxy.index(r, ClassBoardModel.BOOKED).data(),
        )
        for r in range(proxy.rowCount())
    ]


@pytest.fixture
def gym(feeder: Feeder) -> Feeder:
    """A small gym whose first class started at 11:50 today."""
    feeder.gym(NOON.replace(minute=0, hour=12) - timedelta(minutes=0))
    return feeder


def test_receptionist_board_shows_todays_classes_in_order(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder
) -> None:
    board = ReceptionistBoard(bridge, clock=clock)
    qtbot.addWidget(board)
    board.resize(1400, 800)
    board.show()
    assert board_rows(board) == [
        ("11:40", "Spin", "2 / 10"),
        ("13:00", "Yoga Flow", "1 / 20"),
        ("14:00", "Boxfit", "0 / 12"),
    ]
    assert board.marks() == {"c1": "now", "c2": "next"}
    board.set_location("North")
    assert [row[1] for row in board_rows(board)] == ["Boxfit"]
    board.set_location(None)
    board.set_day(NOON.date() + timedelta(days=1))
    assert board_rows(board) == []
    assert board.empty_label.text() == "No classes on this day."


# Offscreen, showing the tooltip also warns that the platform cannot raise it.
@pytest.mark.qt_log_ignore("does not support propagateSizeHints", "does not support raise")
def test_the_running_and_next_rows_are_tinted_and_badged_and_tell_their_details(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder
) -> None:
    board = shown(qtbot, ReceptionistBoard(bridge, clock=clock), (1400, 800))
    tints = row_tints(LIGHT)
    background = Qt.ItemDataRole.BackgroundRole

    def tint(row: int) -> object:
        return board.proxy.index(row, ClassBoardModel.ROOM).data(background)

    assert (tint(0), tint(1), tint(2)) == (tints[NOW], tints[NEXT], None)
    assert board.time_delegate.row_marks == {0: NOW, 1: NEXT}
    # A second class running since the same time is marked and tinted too.
    twin = {
        "title": "Core",
        "location": "Central",
        "room": "C",
        "instructor_id": "i2",
        "starts_at": NOON.replace(minute=0).isoformat(),
        "duration_min": 60,
        "capacity": 8,
    }
    gym.put(Topic.CLASSES, "c9", dumps(twin))
    assert board.marks() == {"c1": NOW, "c9": NOW, "c2": NEXT}
    assert sorted(board.time_delegate.row_marks.values()) == [NEXT, NOW, NOW]
    assert [tint(r) for r in range(4)] == [tints[NOW], tints[NOW], tints[NEXT], None]
    gym.put(Topic.CLASSES, "c9", None)
    assert [tint(r) for r in range(3)] == [tints[NOW], tints[NEXT], None]
    # The key columns are larger, through the painted copy's font role.
    title_font = board.proxy.index(0, ClassBoardModel.CLASS).data(Qt.ItemDataRole.FontRole)
    assert title_font.pointSizeF() > board.table.font().pointSizeF()
    # The running class is deleted: Yoga Flow, now the top row, is still next, and no row
    # keeps the running class's tint.
    gym.put(Topic.CLASSES, "c1", None)
    assert (tint(0), tint(1)) == (tints[NEXT], None)
    assert board.time_delegate.row_marks == {0: NEXT}
    # Hovering a row tells the class's details (from the board model: not copied).
    index = board.proxy.index(0, ClassBoardModel.ROOM)
    rect = board.table.visualRect(index)
    event = QHelpEvent(
        QEvent.Type.ToolTip, rect.center(), board.table.viewport().mapToGlobal(rect.center())
    )
    QApplication.sendEvent(board.table.viewport(), event)
    qtbot.waitUntil(QToolTip.isVisible)
    assert QToolTip.text().startswith("Yoga Flow — ")
    QToolTip.hideText()
    qtbot.waitUntil(lambda: not QToolTip.isVisible())
    # The roster's rows tell theirs too: who, which booking, its last change.
    assert board.select_class("c2")
    roster = board.roster_table
    rect = roster.visualRect(board.roster_order.index(0, 1))
    event = QHelpEvent(
        QEvent.Type.ToolTip, rect.center(), roster.viewport().mapToGlobal(rect.center())
    )
    QApplication.sendEvent(roster.viewport(), event)
    qtbot.waitUntil(QToolTip.isVisible)
    assert QToolTip.text().startswith("Ida Berg (m3)\nBooking b3: Booked")
    QToolTip.hideText()


def test_receptionist_roster_search_and_busy_banner(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder
) -> None:
    board = ReceptionistBoard(bridge, clock=clock)
    qtbot.addWidget(board)
    assert board.select_class("c1")
    names = {board.roster.index(r, 0).data() for r in range(board.roster.rowCount())}
    assert names == {"Mia Roth", "Leo Graf"}
    assert "Spin" in board.roster_title.text()
    board.search.setText("Ida")  # a member booked in Yoga Flow
    assert [row[1] for row in board_rows(board)] == ["Yoga Flow"]
    board.search.clear()
    assert board.banner_text() == ""
    for n in range(4, 21):  # fill Yoga Flow at 13:00 to 18/20: busy
        gym.put(Topic.MEMBERS, f"m{n}", dumps({"name": f"Member {n}"}))
        gym.put(Topic.BOOKINGS, f"b{n}", booking_json("c2", "booked", member_id=f"m{n}"))
    assert "Expect a busy class" in board.banner_text()
    assert "13:00 Yoga Flow (B) — 18/20" in board.banner_text()


def test_live_changes_keep_banner_marks_and_locations_right(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder
) -> None:
    # Live, the board redoes these only when a touched class can change them: each step
    # checks that what had to change did, and what had not, stayed.
    board = ReceptionistBoard(bridge, clock=clock)
    qtbot.addWidget(board)
    gym.live()

    def banner() -> str:
        """Every class on the banner (its tooltip lists those its one line has no room for)."""
        return board.busy_label.toolTip() if board.banner_text() else ""

    for n in range(4, 21):  # Yoga Flow at 13:00 to 18/20: busy
        gym.put(Topic.MEMBERS, f"m{n}", dumps({"name": f"Member {n}"}))
        gym.put(Topic.BOOKINGS, f"b{n}", booking_json("c2", "booked", member_id=f"m{n}"))
    assert "13:00 Yoga Flow (B) — 18/20" in banner()
    gym.put(Topic.BOOKINGS, "b21", booking_json("c2", "booked", member_id="m1"))
    assert "13:00 Yoga Flow (B) — 19/20" in banner()
    gym.put(Topic.BOOKINGS, "b22", booking_json("c3", "booked", member_id="m2"))
    assert "13:00 Yoga Flow (B) — 19/20" in banner()
    for n in range(23, 32):  # Boxfit at 14:00 to 10/12: busy too, and on the banner
        gym.put(Topic.BOOKINGS, f"b{n}", booking_json("c3", "booked", member_id=f"m{n - 19}"))
    assert "13:00 Yoga Flow (B) — 19/20" in banner()
    assert "14:00 Boxfit (Hall) — 10/12" in banner()
    for n in range(4, 11):  # cancellations: 12/20, no longer busy
        gym.put(Topic.BOOKINGS, f"b{n}", booking_json("c2", "cancelled", member_id=f"m{n}"))
    assert "Yoga Flow" not in banner()
    assert "14:00 Boxfit (Hall) — 10/12" in banner()
    for n in range(23, 32):
        gym.put(Topic.BOOKINGS, f"b{n}", booking_json("c3", "cancelled", member_id=f"m{n - 19}"))
    assert banner() == ""
    assert board.marks() == {"c1": "now", "c2": "next"}

    def boxfit(starts: datetime, location: str) -> bytes:
        return dumps(
            {
                "title": "Boxfit",
                "location": location,
                "room": "Hall",
                "instructor_id": "i1",
                "starts_at": starts.isoformat(),
                "duration_min": 60,
                "capacity": 12,
            }
        )

    thirteen = NOON.replace(hour=13, minute=0)
    gym.put(Topic.CLASSES, "c3", boxfit(thirteen, "North"))  # 14:00 -> 13:00: next too
    assert board.marks() == {"c1": "now", "c2": "next", "c3": "next"}
    locations = [board.location_combo.itemText(i) for i in range(board.location_combo.count())]
    assert locations == ["All locations", "Central", "North"]
    gym.put(Topic.CLASSES, "c3", boxfit(thirteen, "West"))  # a new location
    locations = [board.location_combo.itemText(i) for i in range(board.location_combo.count())]
    assert locations == ["All locations", "Central", "West"]


def test_a_booking_changes_exactly_its_row(qtbot: QtBot, bridge: StateBridge, gym: Feeder) -> None:
    board = ReceptionistBoard(bridge, clock=clock)
    qtbot.addWidget(board)
    changed: list[tuple[int, int]] = []
    board.proxy.dataChanged.connect(lambda a, b, *_: changed.append((a.row(), b.row())))
    gym.put(Topic.BOOKINGS, "b9", booking_json("c3", "booked", member_id="m1"))
    assert changed
    assert all(rows == (2, 2) for rows in changed)
    assert board_rows(board)[2][2] == "1 / 12"


def test_with_nobody_chosen_the_chart_reads_the_two_weeks_dates(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder
) -> None:
    page = shown(qtbot, InstructorPage(bridge, clock=clock), (1200, 800))
    left, right = page.plot.getViewBox().viewRange()[0]
    today = clock().date()
    monday = datetime.combine(today - timedelta(days=today.weekday()), time.min, tzinfo=ZONE)
    assert left == pytest.approx(monday.timestamp())
    assert right == pytest.approx((monday + timedelta(days=14)).timestamp())


def test_instructor_page_lists_my_classes_and_totals(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder, settings: QSettings
) -> None:
    page = InstructorPage(bridge, clock=clock)
    qtbot.addWidget(page)
    page.set_instructor("i1")
    titles = [
        page.proxy.index(r, ClassBoardModel.CLASS).data() for r in range(page.proxy.rowCount())
    ]
    assert titles == ["Spin", "Boxfit"]
    assert page.proxy.index(0, ClassBoardModel.STATUS).data() == "0"  # no-shows
    assert page.totals() == {"classes": "2", "fill": "9%", "check_in": "50%", "no_show": "0%"}
    _xs, ys = page.fill_curve.getData()
    assert list(ys) == pytest.approx([20.0, 0.0])
    curve = page.fill_curve
    gym.put(Topic.BOOKINGS, "b9", booking_json("c3", "booked", member_id="m3"))
    page._chart_throttle.flush()
    assert page.fill_curve is curve  # one curve, fed new data
    assert list(page.fill_curve.getData()[1]) == pytest.approx([20.0, 100 / 12])
    page.save_state(settings)
    again = InstructorPage(bridge, clock=clock)
    qtbot.addWidget(again)
    again.restore_state(settings)
    assert again.instructor_id == "i1"
    assert again.who.currentText() == "Ana Lopez"


def test_wallboard_figures_are_large_and_scale(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder, settings: QSettings
) -> None:
    window = shown(qtbot, MainWindow(bridge, "wallboard", settings), (1920, 1080))
    wallboard = window.view
    assert isinstance(wallboard, Wallboard)
    assert wallboard.figure_px >= 48
    bars = [wallboard.total_bar, *wallboard.team_bars.values(), *wallboard.rep_bars.values()]
    assert all(bar.figure_font().pixelSize() >= 48 for bar in bars)
    north = wallboard.team_bars["North"]
    assert north.amount_text() == "€12,340 / €20,000"
    assert wallboard.rep_bars["r2"].amount_text() == "€500"
    assert wallboard.total_bar.amount_text() == "€12,840 / €30,000"
    assert wallboard.ticker.rows[0][3] in ("€12,340", "€500")
    window.resize(960, 540)
    qtbot.wait(10)
    assert wallboard.figure_px == 26
    actual, target = wallboard.actual_curve, wallboard.target_curve
    gym.put(
        Topic.SALES,
        "s3",
        dumps(
            {
                "rep_id": "r2",
                "product": "pt",
                "currency": "EUR",
                "amount_cents": 100_000,
                "sold_at": datetime.now(ZONE).isoformat(),
            }
        ),
    )
    wallboard._chart_throttle.flush()
    assert (wallboard.actual_curve, wallboard.target_curve) == (actual, target)
    assert isinstance(north, TargetBar)


def test_stale_banner_shows_when_not_live_and_counts_up(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder, settings: QSettings
) -> None:
    window = MainWindow(bridge, "receptionist", settings, DeskOptions())
    qtbot.addWidget(window)
    window.show()
    assert window.banner.isVisible()  # connecting: nothing confirmed yet
    gym.live()
    assert not window.banner.isVisible()
    assert window.indicator.label.text() == "Live"
    confirmed = bridge.last_confirmed
    assert confirmed is not None
    bridge.on_status(ReaderStatus(Phase.RECONNECTING, "connection refused", confirmed_at=confirmed))
    assert window.banner.isVisible()
    assert window.indicator.label.text() == "Reconnecting… (connection refused)"
    bridge.on_status(ReaderStatus(Phase.RESTORING, "45%"))  # a restart, loading its snapshot
    assert window.banner.isVisible()
    assert window.indicator.label.text() == "Loading the saved state… 45%"
    bridge.on_status(ReaderStatus(Phase.RECONNECTING, "connection refused", confirmed_at=confirmed))

    now = [confirmed + 5]
    banner = StaleBanner(bridge, clock=lambda: now[0])
    qtbot.addWidget(banner)
    assert banner.text().endswith("Last update 5 s ago")
    assert banner.text().startswith("Not live — showing the last known state.")
    now[0] += 1
    banner._on_timer_timeout()
    assert banner.label.text().endswith("Last update 6 s ago")
    first = window.banner.label.text()
    qtbot.waitUntil(lambda: window.banner.label.text() != first, timeout=2500)


def test_catching_up_shows_progress(qtbot: QtBot, bridge: StateBridge, settings: QSettings) -> None:
    from gymdesk.domain.status import TopicProgress

    window = MainWindow(bridge, "receptionist", settings)
    qtbot.addWidget(window)
    window.show()
    bridge.on_status(
        ReaderStatus(Phase.CATCHING_UP, progress={"gym.bookings": TopicProgress(25, 100)})
    )
    assert window.indicator.progress.isVisible()
    assert window.indicator.progress.value() == 250
    assert "gym.bookings: 25 / 100 (25%)" in window.indicator.progress.toolTip()
    bridge.on_status(ReaderStatus(Phase.FAILED, "authentication failed: bad password"))
    assert window.indicator.label.text() == "Failed: authentication failed: bad password"


def test_window_state_survives_close_and_reopen(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder, settings: QSettings
) -> None:
    window = MainWindow(bridge, "receptionist", settings)
    qtbot.addWidget(window)
    window.setGeometry(20, 40, 780, 700)  # within the offscreen 800x800 screen
    window.show()
    board = window.view
    assert isinstance(board, ReceptionistBoard)
    board.set_location("North")
    board.splitter.moveSplitter(420, 1)  # as a person's drag: kept from now on
    assert board.splitter_custom
    sizes = board.splitter.sizes()
    board.table.horizontalHeader().resizeSection(ClassBoardModel.ROOM, 222)
    window.set_role("instructor")
    window.set_role("receptionist")
    window.save_state()
    window.allow_close()
    window.close()

    again = MainWindow(bridge, str(settings.value("role")), settings)
    qtbot.addWidget(again)
    again.restore_window()
    again.show()
    board = again.view
    assert isinstance(board, ReceptionistBoard)
    assert again.role == "receptionist"
    assert board.location() == "North"
    assert board.splitter.sizes() == sizes
    assert board.table.horizontalHeader().sectionSize(ClassBoardModel.ROOM) == 222
    assert again.size() == window.size()
    again.set_role("wallboard")
    again.save_state()
    assert settings.value("role") == "wallboard"


def test_toasts_when_there_is_no_tray(
    qtbot: QtBot, settings: QSettings, bridge: StateBridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: False))
    window = MainWindow(bridge, "receptionist", settings)
    qtbot.addWidget(window)
    window.resize(1200, 700)
    window.show()
    with pytest.raises(TrayUnavailable):
        TrayAdapter(window.windowIcon(), on_show=print, on_mute=print, on_quit=print)
    adapter = make_adapter(window, window.windowIcon(), on_show=print, on_mute=print, on_quit=print)
    assert isinstance(adapter, ToastAdapter)
    adapter.notify("Expect a busy class", "18:00 Spin (A) — 18/20")
    (toast,) = adapter.toasts
    assert toast.isVisible()
    assert toast.geometry().right() <= window.width()
    # Bottom-right, over the least important area, clear of the status bar.
    assert toast.geometry().top() > window.height() * 2 / 3
    assert toast.geometry().bottom() < window.statusBar().geometry().top()


def _busy_up(feeder: Feeder, class_id: str, members: range) -> None:
    for n in members:
        feeder.put(Topic.BOOKINGS, f"{class_id}-b{n}", booking_json(class_id, member_id=f"m{n}"))


def test_one_grouped_alert_for_two_busy_classes_and_none_during_catch_up(
    qtbot: QtBot, settings: QSettings, bridge: StateBridge, gym: Feeder
) -> None:
    window = MainWindow(bridge, "receptionist", settings)
    qtbot.addWidget(window)
    adapter = ToastAdapter(window)
    presenter = AlertPresenter(bridge, adapter, clock=clock)
    bridge.on_status(ReaderStatus(Phase.CATCHING_UP))
    _busy_up(gym, "c3", range(1, 11))  # Boxfit 10/12 during catch-up
    assert presenter.check_due() is None
    gym.live()
    _busy_up(gym, "c2", range(1, 17))  # Yoga Flow 17/20
    gym.put(
        Topic.CLASSES,
        "c4",
        dumps(
            {
                "title": "HIIT",
                "location": "Central",
                "room": "A",
                "instructor_id": "i2",
                "starts_at": (NOON + timedelta(hours=1)).isoformat(),
                "duration_min": 45,
                "capacity": 2,
            }
        ),
    )
    _busy_up(gym, "c4", range(1, 3))  # HIIT 2/2
    alert = presenter.check_due()
    assert alert is not None
    assert alert.title == "Expect 2 busy classes"
    assert set(alert.class_ids) == {"c2", "c4"}
    assert len(adapter.toasts) == 1
    assert presenter.check_due() is None
    assert len(presenter.shown) == 1


def test_rejected_dialog_lists_and_copies(
    qtbot: QtBot, bridge: StateBridge, feeder: Feeder, settings: QSettings
) -> None:
    feeder.put(Topic.CLASSES, "bad", b'{"title": 3}')
    window = MainWindow(bridge, "receptionist", settings)
    qtbot.addWidget(window)
    assert window.indicator.rejected.text() == "⚠ 1 rejected"
    dialog = RejectedDialog(bridge)
    qtbot.addWidget(dialog)
    assert dialog.model.rowCount() == 1
    dialog.copy_button.click()
    text = QGuiApplication.clipboard().text()
    header, row = text.splitlines()
    assert header.split("\t")[0] == "Topic"
    assert row.split("\t")[3] == "bad"


def test_a_board_row_gives_the_domain_view(bridge: StateBridge, gym: Feeder) -> None:
    board = ReceptionistBoard(bridge, clock=clock)
    assert board.class_at(board.proxy.index(0, 0)).id == "c1"
    # The painted copy holds no domain objects; the board model answers for them.
    assert board.proxy.index(0, 0).data(ClassViewRole) is None
    assert board.board.index(board.board.row_of("c1"), 0).data(ClassViewRole).id == "c1"
    board.deleteLater()
