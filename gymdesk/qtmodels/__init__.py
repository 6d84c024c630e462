"""Qt item models over the domain state, fed row by row through a throttled bridge."""

from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.qtmodels.models import (
    ClassBoardModel,
    ClassFilterProxy,
    ClassViewRole,
    FillRole,
    InstructorModel,
    KeyedTableModel,
    KeyRole,
    RejectedModel,
    RepModel,
    RosterModel,
    SalesTickerModel,
    SortRole,
    TeamModel,
    ViewRole,
)
from gymdesk.qtmodels.throttle import Throttle

__all__ = [
    "ClassBoardModel",
    "ClassFilterProxy",
    "ClassViewRole",
    "FillRole",
    "InstructorModel",
    "KeyRole",
    "KeyedTableModel",
    "RejectedModel",
    "RepModel",
    "RosterModel",
    "SalesTickerModel",
    "SortRole",
    "StateBridge",
    "TeamModel",
    "Throttle",
    "ViewRole",
]
