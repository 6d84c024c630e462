"""qasync on this PySide6 must survive a long run of bare yields (6.12.0 aborted CPython)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from PySide6.QtWidgets import QApplication
    import qasync

    app = QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    async def spin():
        for _ in range(20_000):
            await asyncio.sleep(0)
        return "done"

    with loop:
        print(loop.run_until_complete(spin()))
    """
)


def test_qasync_loop_survives_20000_yields() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=240
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("done")
