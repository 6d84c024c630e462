"""The pure layer imports and runs in an interpreter where Qt and Kafka cannot be imported."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKED = ("PySide6", "pyqtgraph", "qasync", "aiokafka")
UPPER_LAYERS = ("gymdesk.stream", "gymdesk.qtmodels", "gymdesk.ui", "gymdesk.app", "gymdesk.sim")

PROGRAM = textwrap.dedent(
    """
    import importlib
    import importlib.abc
    import pkgutil
    import sys

    BLOCKED = {blocked!r}
    UPPER_LAYERS = {upper!r}


    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED or name.startswith(UPPER_LAYERS):
                raise ImportError(f"{{name}} may not be imported by the pure layer")
            return None


    sys.meta_path.insert(0, Blocker())
    for name in BLOCKED:
        assert name not in sys.modules, name
        try:
            importlib.import_module(name)
        except ImportError:
            pass
        else:
            raise SystemExit(f"the blocker let {{name}} through")

    import gymdesk.domain

    imported = []
    for info in pkgutil.walk_packages(gymdesk.domain.__path__, "gymdesk.domain."):
        importlib.import_module(info.name)
        imported.append(info.name)

    from gymdesk.domain.changes import View
    from gymdesk.domain.contract import Topic
    from gymdesk.domain.state import GymState, StateSettings

    state = GymState(StateSettings(period="2024-05"))
    value = (
        b'{{"title": "Spin", "location": "Central", "room": "A", "instructor_id": "i1",'
        b' "starts_at": "2024-05-10T18:00:00+02:00", "duration_min": 45, "capacity": 10}}'
    )
    changes = state.apply(Topic.CLASSES, b"c1", value)
    assert state.class_view("c1").capacity == 10, state.tables
    assert changes.keys(View.CLASSES) == {{"c1"}}, changes

    loaded = sorted(
        name for name in sys.modules
        if name.split(".")[0] in BLOCKED or name.startswith(UPPER_LAYERS)
    )
    assert not loaded, loaded
    print(" ".join(sorted(imported)))
    """
).format(blocked=BLOCKED, upper=UPPER_LAYERS)


def test_the_domain_imports_no_qt_and_no_kafka() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    imported = set(result.stdout.split())
    assert {
        "gymdesk.domain.changes",
        "gymdesk.domain.contract",
        "gymdesk.domain.rejections",
        "gymdesk.domain.state",
        "gymdesk.domain.views",
    } <= imported


def test_the_blocker_does_block() -> None:
    # The check above is only worth something if a forbidden import really fails there.
    probe = PROGRAM.replace("import gymdesk.domain\n", "import gymdesk.domain\nimport qasync\n")
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode != 0
    assert "qasync may not be imported by the pure layer" in result.stderr
