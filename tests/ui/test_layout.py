"""Layout: column widths, the one-line busy banner, the roster order, following now."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from gymdesk.domain.contract import Topic
from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.qtmodels.models import ClassBoardModel, ClassViewRole, RosterModel
from gymdesk.ui.columns import ColumnFitter
from gymdesk.ui.instructor import InstructorPage
from gymdesk.ui.receptionist import ReceptionistBoard, tooltip_of
from gymdesk.ui.theme import LIGHT, apply_theme
from gymdesk.ui.window import MainWindow
from tests.ui.conftest import Feeder, now_local
from tests.unit.domain.records import booking_fields, booking_json, dumps, member_json

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

SIZES = ((1366, 768), (1600, 900), (1920, 1080))


@pytest.fixture
def gym(feeder: Feeder) -> Feeder:
    """A small gym with classes today."""
    feeder.gym()
    return feeder


def themed() -> None:
    """Apply the desk's theme (as a window does) to the application."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, LIGHT)


def open_role(
    qtbot: QtBot, bridge: StateBridge, settings: QSettings, role: str, size: tuple[int, int]
) -> MainWindow:
    """Open a role's window at a size."""
    window = MainWindow(bridge, role, settings)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    return window


def open_board(
    qtbot: QtBot, bridge: StateBridge, settings: QSettings, size: tuple[int, int]
) -> tuple[MainWindow, ReceptionistBoard]:
    """Open the receptionist role at a size, once its split between board and roster is fitted."""
    window = open_role(qtbot, bridge, settings, "receptionist", size)
    board = window.view
    assert isinstance(board, ReceptionistBoard)
    qtbot.waitUntil(lambda: not board.split_pending)
    return window, board


def check_fitted(fitter: ColumnFitter, shown: list[int]) -> dict[int, int]:
    """Assert every shown column keeps its floor and the table needs no sideways scrolling."""
    table = fitter.parent()
    header = table.horizontalHeader()  # type: ignore[attr-defined]
    widths = {column: header.sectionSize(column) for column in shown}
    for column, width in widths.items():
        assert width >= fitter.floor_width(column), column
    assert table.horizontalScrollBar().maximum() == 0  # type: ignore[attr-defined]
    return widths


@pytest.mark.parametrize("size", SIZES)
def test_receptionist_columns_fit_and_share_room_sensibly(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder, settings: QSettings, size: tuple[int, int]
) -> None:
    _window, board = open_board(qtbot, bridge, settings, size)
    widths = check_fitted(board.columns, list(range(len(ClassBoardModel.HEADERS))))
    viewport = board.table.viewport().width()
    # The class title gets more than a count, but not the lion's share of the board.
    assert widths[ClassBoardModel.CLASS] > widths[ClassBoardModel.WAITLIST]
    assert widths[ClassBoardModel.CLASS] < viewport * 0.3
    for column in (ClassBoardModel.WAITLIST, ClassBoardModel.CHECKED_IN):
        assert widths[column] == board.columns.minimum_width(column)  # counts stay compact
    check_fitted(board.roster_columns, list(range(len(RosterModel.HEADERS))))


def test_a_narrow_front_desk_screen_keeps_the_board_whole_and_drops_the_channel(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder, settings: QSettings
) -> None:
    # A 1280 x 800 screen: the board's badges must not scroll out of sight; the roster
    # gives up its channel column (each row's tooltip still names it), and takes it
    # back when the window grows.
    window, board = open_board(qtbot, bridge, settings, (1229, 752))
    widths = check_fitted(board.columns, list(range(len(ClassBoardModel.HEADERS))))
    kept = {c: widths[c] / board.columns.minimum_width(c) for c in widths}
    # Short of room, the room gives up room first, the class's title last.
    assert kept[ClassBoardModel.ROOM] <= kept[ClassBoardModel.INSTRUCTOR]
    assert kept[ClassBoardModel.ROOM] < kept[ClassBoardModel.CLASS]
    assert board.roster_table.isColumnHidden(RosterModel.CHANNEL)
    roster = [c for c in range(len(RosterModel.HEADERS)) if c != RosterModel.CHANNEL]
    check_fitted(board.roster_columns, roster)
    assert not board.roster_columns.custom  # hiding a column is not a person's sizing
    booked_by_phone = {**booking_fields("c1", member_id="m3"), "channel": "phone"}
    gym.put(Topic.BOOKINGS, "b3", dumps(booked_by_phone))
    assert board.select_class("c1")  # the gym's first class, with bookings
    board.roster.finish_sweep()
    row = board.roster.row_of("b3")
    assert row is not None
    tip = tooltip_of(board.roster, row)  # what the roster's rows show on hover
    assert tip is not None
    assert " via phone" in tip
    window.resize(1600, 900)
    qtbot.waitUntil(lambda: not board.roster_table.isColumnHidden(RosterModel.CHANNEL))
    qtbot.waitUntil(lambda: not board.split_pending)
    check_fitted(board.roster_columns, list(range(len(RosterModel.HEADERS))))


def test_a_split_set_by_hand_is_kept_and_a_fitted_one_follows_the_window(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder, settings: QSettings
) -> None:
    window, board = open_board(qtbot, bridge, settings, (1600, 900))
    board.save_state(settings)
    window.resize(1229, 752)  # a fitted split follows the window
    qtbot.waitUntil(lambda: not board.split_pending)
    assert board.table.horizontalScrollBar().maximum() == 0
    board.restore_state(settings)  # and is fitted again, not put back, on a restore
    assert board.table.horizontalScrollBar().maximum() == 0
    board.splitter.moveSplitter(700, 1)  # moveSplitter is protected: as a drag does
    assert board.splitter_custom
    chosen = board.splitter.sizes()
    board.fit_splitter()
    assert board.splitter.sizes() == chosen  # a split a person chose is left alone
    board.save_state(settings)
    again = open_role(qtbot, bridge, settings, "receptionist", (1229, 752))
    other = again.view
    assert isinstance(other, ReceptionistBoard)
    other.restore_state(settings)
    assert other.splitter_custom
    assert other.splitter.sizes()[0] == chosen[0]  # and comes back on the next start


@pytest.mark.parametrize("size", SIZES)
def test_instructor_columns_give_no_shows_room_and_class_no_more_than_its_share(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder, settings: QSettings, size: tuple[int, int]
) -> None:
    window = open_role(qtbot, bridge, settings, "instructor", size)
    page = window.view
    assert isinstance(page, InstructorPage)
    shown = [c for c in range(len(ClassBoardModel.HEADERS)) if c != ClassBoardModel.INSTRUCTOR]
    widths = check_fitted(page.columns, shown)
    assert page.table.isColumnHidden(ClassBoardModel.INSTRUCTOR)
    assert widths[ClassBoardModel.CLASS] < page.table.viewport().width() * 0.3
    header = page.table.horizontalHeader()
    metrics = header.fontMetrics()
    assert widths[ClassBoardModel.STATUS] > metrics.horizontalAdvance("No-shows") + 16
    # The count sits right, like its neighbours, not run up against "Checked in".
    assert page.proxy.headerData(ClassBoardModel.STATUS, header.orientation(), 7) is not None


def test_a_column_cannot_be_dragged_narrower_than_its_text(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder, settings: QSettings
) -> None:
    window = open_role(qtbot, bridge, settings, "receptionist", (1600, 900))
    board = window.view
    assert isinstance(board, ReceptionistBoard)
    header = board.table.horizontalHeader()
    header.resizeSection(ClassBoardModel.CLASS, 12)
    assert header.sectionSize(ClassBoardModel.CLASS) == board.columns.floor_width(
        ClassBoardModel.CLASS
    )
    header.resizeSection(ClassBoardModel.WAITLIST, 12)  # a count never shrinks below its need
    assert header.sectionSize(ClassBoardModel.WAITLIST) == board.columns.minimum_width(
        ClassBoardModel.WAITLIST
    )
    assert board.columns.custom


def test_hand_set_widths_restore_and_fitted_ones_refit(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder, settings: QSettings
) -> None:
    page = InstructorPage(bridge)
    qtbot.addWidget(page)
    page.resize(1500, 800)
    page.show()
    qtbot.waitExposed(page)
    fitted_room = page.table.horizontalHeader().sectionSize(ClassBoardModel.ROOM)
    page.save_state(settings)  # nothing set by hand yet

    again = InstructorPage(bridge)
    qtbot.addWidget(again)
    again.restore_state(settings)
    again.resize(1100, 800)
    again.show()
    qtbot.waitExposed(again)
    room = again.table.horizontalHeader().sectionSize(ClassBoardModel.ROOM)
    assert room < fitted_room  # fitted to the narrower window, not frozen at the old width
    assert not again.columns.custom

    again.table.horizontalHeader().resizeSection(ClassBoardModel.ROOM, 260)  # a drag
    again.save_state(settings)
    third = InstructorPage(bridge)
    qtbot.addWidget(third)
    third.restore_state(settings)
    third.resize(1500, 800)
    third.show()
    qtbot.waitExposed(third)
    assert third.columns.custom
    assert third.table.horizontalHeader().sectionSize(ClassBoardModel.ROOM) == 260
    assert third.table.isColumnHidden(ClassBoardModel.INSTRUCTOR)
    third.columns.reset()  # back to fitted widths
    assert third.table.horizontalHeader().sectionSize(ClassBoardModel.ROOM) != 260


NOON = now_local().replace(hour=12, minute=10)


def _fill(feeder: Feeder, class_id: str, count: int) -> None:
    """Book ``count`` members into a class."""
    for n in range(count):
        feeder.put(Topic.BOOKINGS, f"{class_id}-f{n}", booking_json(class_id, member_id=f"m{n}"))


def test_the_busy_banner_keeps_to_one_line_and_lists_the_rest_in_its_tooltip(
    qtbot: QtBot, bridge: StateBridge, feeder: Feeder
) -> None:
    themed()  # the desk's font: what fits on the line depends on it
    feeder.gym(NOON)
    board = ReceptionistBoard(bridge, clock=lambda: NOON)
    qtbot.addWidget(board)
    board.resize(1400, 700)
    board.show()
    qtbot.waitExposed(board)
    _fill(feeder, "c2", 16)  # Yoga Flow at 13:00: 17/20
    wide = board.banner_text()
    assert wide == "Expect a busy class:  13:00 Yoga Flow (B) — 17/20"
    for n in range(5):  # five small classes this afternoon, each full
        feeder.put(Topic.CLASSES, f"pt{n}", one_class(NOON + timedelta(minutes=30 + 10 * n), 1))
        _fill(feeder, f"pt{n}", 1)
    text = board.banner_text()
    assert text.startswith("Expect busy classes:  12:40 Early Bird (A) — 1/1")
    assert text.endswith(" more)")
    label = board.busy_label
    assert label.fontMetrics().horizontalAdvance(text) <= label.width()
    tooltip = label.toolTip().splitlines()
    assert len(tooltip) == 6
    assert "13:00 Yoga Flow (B) — 17/20" in tooltip
    shown_wide = text.count("·")
    board.resize(board.minimumSizeHint().width(), 700)
    qtbot.waitUntil(lambda: board.banner_text().count("·") < shown_wide)
    assert label.fontMetrics().horizontalAdvance(board.banner_text()) <= label.width()


def test_a_class_turning_busy_changes_the_banner_s_words_not_the_board_s_place(
    qtbot: QtBot, bridge: StateBridge, feeder: Feeder
) -> None:
    # The banner's strip is always there, calm when no class is busy, so the rows under
    # a receptionist's pointer never jump when a warning comes or goes.
    themed()  # the desk's style sheet colours the warning
    feeder.gym(NOON)
    board = ReceptionistBoard(bridge, clock=lambda: NOON)
    qtbot.addWidget(board)
    board.resize(1400, 700)
    board.show()
    qtbot.waitExposed(board)
    top = board.table.mapTo(board, QPoint(0, 0)).y()
    assert not board.banner_busy
    assert board.banner_text() == ""
    assert board.busy_label.text() == "No busy class in the next 3 h"
    calm = board.busy_banner.grab().toImage().pixelColor(4, 4)
    _fill(feeder, "c2", 16)  # Yoga Flow at 13:00: 17/20, busy
    assert board.banner_busy
    assert board.banner_text().startswith("Expect a busy class")
    qtbot.waitUntil(lambda: board.table.mapTo(board, QPoint(0, 0)).y() == top)
    warning = board.busy_banner.grab().toImage().pixelColor(4, 4)
    assert warning != calm  # the warning looks like one
    feeder.put(Topic.CLASSES, "c2", one_class(NOON + timedelta(minutes=60), 40))  # roomier
    assert not board.banner_busy
    assert board.busy_label.text() == "No busy class in the next 3 h"
    assert board.table.mapTo(board, QPoint(0, 0)).y() == top


def test_the_roster_lists_who_is_coming_first_and_greys_cancellations(
    qtbot: QtBot, qtmodeltester: ModelTester, bridge: StateBridge, feeder: Feeder
) -> None:
    board = ReceptionistBoard(bridge, clock=lambda: NOON)
    qtbot.addWidget(board)
    qtmodeltester.check(board.roster_order)
    feeder.gym(NOON)
    feeder.put(Topic.MEMBERS, "m9", member_json("Aaron Abel"))
    feeder.put(Topic.BOOKINGS, "b9", booking_json("c1", "cancelled", member_id="m9"))
    assert board.select_class("c1")
    order = board.roster_order
    rows = [
        (order.index(r, RosterModel.MEMBER).data(), order.index(r, RosterModel.STATUS).data())
        for r in range(order.rowCount())
    ]
    # Aaron sorts first by name, but he cancelled: he is listed last, greyed out.
    assert rows == [("Leo Graf", "Booked"), ("Mia Roth", "Checked in"), ("Aaron Abel", "Cancelled")]
    grey = order.index(2, 0).data(Qt.ItemDataRole.ForegroundRole)
    assert grey is not None
    assert order.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) is None
    feeder.put(Topic.BOOKINGS, "b9", booking_json("c1", "booked", member_id="m9"))  # rebooked
    assert order.index(0, RosterModel.MEMBER).data() == "Aaron Abel"


def test_the_board_follows_the_running_class_until_someone_scrolls(
    qtbot: QtBot, bridge: StateBridge, feeder: Feeder
) -> None:
    feeder.gym(NOON)
    for n in range(12):  # a morning of classes before the running one, and an evening after
        feeder.put(
            Topic.CLASSES, f"am{n}", one_class(NOON.replace(hour=6) + timedelta(hours=n / 3))
        )
        feeder.put(
            Topic.CLASSES, f"pm{n}", one_class(NOON.replace(hour=16) + timedelta(hours=n / 3))
        )
    board = ReceptionistBoard(bridge, clock=lambda: NOON)
    qtbot.addWidget(board)
    board.resize(1200, 420)
    board.show()
    qtbot.waitExposed(board)
    qtbot.waitUntil(lambda: _class_at_top(board) == "c1")  # Spin, running since 11:40
    selected = board.selected_class()
    assert selected is not None
    assert selected.id == "c1"  # its roster shows without a click
    # A class arriving above (catch-up) does not push the running one out of view.
    feeder.put(Topic.CLASSES, "am-late", one_class(NOON.replace(hour=10)))
    qtbot.waitUntil(lambda: _class_at_top(board) == "c1")
    # Once someone scrolls, the board stays where they put it.
    scrollbar = board.table.verticalScrollBar()
    scrollbar.triggerAction(scrollbar.SliderAction.SliderToMinimum)
    assert _class_at_top(board) == "am0"
    feeder.put(Topic.CLASSES, "am-later", one_class(NOON.replace(hour=9)))
    board._on_mark_timer_timeout()  # time moves on: still no jump
    board._scroll_to_now()  # what the follow timer would run
    assert _class_at_top(board) == "am0"


def one_class(start: datetime, capacity: int = 10) -> bytes:
    """Return a short class at Central, room A."""
    return dumps(
        {
            "title": "Early Bird",
            "location": "Central",
            "room": "A",
            "instructor_id": "i1",
            "starts_at": start.isoformat(),
            "duration_min": 15,
            "capacity": capacity,
        }
    )


def _class_at_top(board: ReceptionistBoard) -> object:
    """Return the id of the class in the board's top visible row."""
    index = board.table.indexAt(board.table.viewport().rect().topLeft())
    return getattr(board.class_at(index), "id", None)


def test_the_instructor_list_opens_at_the_next_class(
    qtbot: QtBot, bridge: StateBridge, feeder: Feeder
) -> None:
    feeder.gym(NOON)
    for n in range(14):  # a busy fortnight for Ana: mornings, this week and next
        start = NOON.replace(hour=7) + timedelta(days=n - 7)
        feeder.put(Topic.CLASSES, f"x{n}", one_class(start))
    page = InstructorPage(bridge, clock=lambda: NOON)
    qtbot.addWidget(page)
    page.resize(1200, 560)
    page.set_instructor("i1")
    page.show()
    qtbot.waitExposed(page)

    def top() -> object:
        index = page.table.indexAt(page.table.viewport().rect().topLeft())
        return getattr(index.data(ClassViewRole), "id", None)

    # The first class not over yet: Spin, running since 11:40 (past ones are above it).
    qtbot.waitUntil(lambda: top() == "c1")
    scrollbar = page.table.verticalScrollBar()
    scrollbar.triggerAction(scrollbar.SliderAction.SliderToMinimum)
    page._scroll_to_upcoming()
    assert top() != "c1"  # left where the person put it


def test_column_titles_sit_like_their_cells(
    qtbot: QtBot, bridge: StateBridge, gym: Feeder, settings: QSettings
) -> None:
    window = open_role(qtbot, bridge, settings, "receptionist", SIZES[1])
    board = window.view
    assert isinstance(board, ReceptionistBoard)
    for table in (board.table, board.roster_table):
        header, model = table.horizontalHeader(), table.model()
        for column in range(model.columnCount()):
            own = model.headerData(
                column, Qt.Orientation.Horizontal, Qt.ItemDataRole.TextAlignmentRole
            )
            side = header.defaultAlignment() if own is None else Qt.AlignmentFlag(int(own))
            cell = model.index(0, column).data(Qt.ItemDataRole.TextAlignmentRole)
            if cell is None:  # a text cell: drawn from the left
                assert side & Qt.AlignmentFlag.AlignLeft, (table.objectName(), column)
            else:
                assert Qt.AlignmentFlag(int(cell)) & Qt.AlignmentFlag.AlignRight
                assert side & Qt.AlignmentFlag.AlignRight, (table.objectName(), column)
