"""The Qt models import QtCore and QtGui only: no widgets, no charts, no Kafka."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    import gymdesk.qtmodels as package
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
    banned = [m for m in ("PySide6.QtWidgets", "pyqtgraph", "aiokafka", "gymdesk.stream")
              if m in sys.modules]
    print("loaded:", ",".join(banned) or "none")
    """
)


def test_qtmodels_load_no_widgets_charts_or_kafka() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "loaded: none"
