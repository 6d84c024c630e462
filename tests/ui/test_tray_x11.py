"""The real system tray: gymdesk's tray icon in an X server with a freedesktop tray.

Xvfb gives a display, trayer puts a freedesktop system tray (_NET_SYSTEM_TRAY_S0) on
it, and tray_x11_child.py runs a real Desk there on Qt's xcb platform (this process is
offscreen, so that part runs in a child). The child clicks the real icon and its menu
with xdotool and reads the window tree with xwininfo; it prints what it saw as JSON.
The X session runs once for all the tests of this module.

A second session starts without the tray: the child's desk starts on toasts, says so, and
only then does trayer start, as when the desktop's panel comes up after gymdesk at login.
"""

from __future__ import annotations

import functools
import os
import select
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from tests.children import json_result, require_tools

CHILD = Path(__file__).with_name("tray_x11_child.py")
APP_NAME = "gymdesk-tray-check"  # the child's application name: its icon window's name
TOOLS = ("Xvfb", "trayer", "xwininfo", "xdotool")
NO_X = "GYMDESK_NO_X"
LATE_CUE = "on toasts"  # the late child's line: it started on toasts, start the tray now


@dataclass
class TrayRun:
    """What one X session with a tray showed, and what it left behind."""

    display: int
    result: dict[str, Any]
    stderr: str
    started: list[int] = field(default_factory=list)
    survivors: list[str] = field(default_factory=list)
    lock_left: bool = False


def require_x_tools() -> None:
    """Fail (skip only when GYMDESK_NO_X=1) when the X server, tray or X tools are missing."""
    require_tools(TOOLS, "the X server, the tray and the X tools", NO_X)


def start_xvfb(log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start Xvfb on a free display; return it and the display number it chose."""
    read_end, write_end = os.pipe()
    command = ["Xvfb", "-displayfd", str(write_end), "-nolisten", "tcp"]
    try:
        with log.open("wb") as errors:
            xvfb = subprocess.Popen(
                [*command, "-screen", "0", "1280x800x24"],
                pass_fds=(write_end,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                start_new_session=True,
            )
    finally:
        os.close(write_end)
    text = b""
    try:
        while not text.endswith(b"\n"):
            ready, _, _ = select.select([read_end], [], [], 15.0)
            chunk = os.read(read_end, 64) if ready else b""
            if not chunk:
                break
            text += chunk
    finally:
        os.close(read_end)
    if not text.strip().isdigit():
        stop(xvfb)
        raise AssertionError(f"Xvfb gave no display number: {log.read_text(errors='replace')}")
    return xvfb, int(text)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask a process we started to end, then make it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def descendants(pids: list[int]) -> list[psutil.Process]:
    """Return the processes with these ids and all their children."""
    found: list[psutil.Process] = []
    for pid in pids:
        try:
            process = psutil.Process(pid)
            found += [process, *process.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
    return found


def alive(process: psutil.Process) -> bool:
    """Return whether a process still runs (a zombie does not)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def display_env(scratch: Path, display: int) -> dict[str, str]:
    """Return the environment of the tray and the child on an X display of their own."""
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "XAUTHORITY")}
    # No session bus: Qt then takes the XEmbed tray, not a StatusNotifier elsewhere.
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    runtime = scratch / "run"
    runtime.mkdir(mode=0o700)
    env.update(DISPLAY=f":{display}", QT_QPA_PLATFORM="xcb", XDG_RUNTIME_DIR=str(runtime))
    return env


def start_trayer(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start trayer: a panel holding a freedesktop system tray."""
    with log.open("wb") as errors:
        return subprocess.Popen(
            ["trayer", "--edge", "bottom", "--align", "right", "--widthtype", "request"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            start_new_session=True,
        )


def finish(started: list[subprocess.Popen[bytes]], scratch: Path) -> list[psutil.Process]:
    """Stop what we started (the last first) and remove the scratch folder."""
    tracked = descendants([p.pid for p in started])
    for process in reversed(started):
        stop(process)
    shutil.rmtree(scratch, ignore_errors=True)
    return tracked


@functools.cache
def run_tray_session() -> TrayRun:
    """Start Xvfb and trayer, run the child on that display, stop everything; once."""
    scratch = Path(tempfile.mkdtemp(prefix="gymdesk-x11-"))
    started: list[subprocess.Popen[bytes]] = []
    display = -1
    try:
        xvfb, display = start_xvfb(scratch / "xvfb.log")
        started.append(xvfb)
        env = display_env(scratch, display)
        trayer = start_trayer(env, scratch / "trayer.log")
        started.append(trayer)
        child = subprocess.run(
            [sys.executable, str(CHILD)],
            env=env,
            cwd=scratch,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        result = json_result("the child", child.returncode, child.stdout, child.stderr)
        assert trayer.poll() is None, (scratch / "trayer.log").read_text(errors="replace")
        run = TrayRun(display, result, child.stderr, [p.pid for p in started])
    finally:
        tracked = finish(started, scratch)
    run.survivors = [f"{p.pid} {p.name()}" for p in tracked if alive(p)]
    run.lock_left = Path(f"/tmp/.X{display}-lock").exists()
    return run


def read_line(child: subprocess.Popen[str], timeout: float) -> str:
    """Return the child's next line of output, or "" when none comes in time."""
    assert child.stdout is not None
    ready, _, _ = select.select([child.stdout], [], [], timeout)
    return child.stdout.readline() if ready else ""


@functools.cache
def run_late_tray_session() -> TrayRun:
    """Start Xvfb alone, the child on it, then trayer once the child is on toasts; once."""
    scratch = Path(tempfile.mkdtemp(prefix="gymdesk-x11-late-"))
    started: list[subprocess.Popen[bytes]] = []
    display = -1
    try:
        xvfb, display = start_xvfb(scratch / "xvfb.log")
        started.append(xvfb)
        env = display_env(scratch, display)
        with subprocess.Popen(
            [sys.executable, str(CHILD), "late"],
            env=env,
            cwd=scratch,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as child:
            cue = read_line(child, 60.0)
            if cue.strip() == LATE_CUE:
                started.append(start_trayer(env, scratch / "trayer.log"))
            try:
                out, err = child.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                child.kill()
                out, err = child.communicate()
        result = json_result("the late child", child.returncode, cue + out, err)
        assert cue.strip() == LATE_CUE, f"the late child's first line: {cue!r}\n{out}\n{err}"
        run = TrayRun(display, result, err, [p.pid for p in started])
    finally:
        tracked = finish(started, scratch)
    run.survivors = [f"{p.pid} {p.name()}" for p in tracked if alive(p)]
    run.lock_left = Path(f"/tmp/.X{display}-lock").exists()
    return run


def checked(run_session: Callable[[], TrayRun]) -> TrayRun:
    """Return a session's findings, after checking that it can run here and ran through."""
    # Not a fixture: a missing tool then fails the test itself, saying how to install it.
    require_x_tools()
    run = run_session()
    assert "error" not in run.result, run.result["error"]
    return run


def session() -> TrayRun:
    """Return the X session's findings (a tray from the start)."""
    return checked(run_tray_session)


def test_a_real_tray_is_found_and_the_desk_alerts_through_it() -> None:
    result = session().result
    assert result["platform"] == "xcb"
    assert result["tray_available"], "trayer did not take _NET_SYSTEM_TRAY_S0 within 10 s"
    assert result["adapter"] == "TrayAdapter"  # not the in-app toasts
    assert result["said"] == ["alerts: using the system tray"]


def test_the_icon_is_embedded_in_the_tray_where_qt_says_it_is() -> None:
    result = session().result
    assert result["visible"]
    x, y, width, height = result["geometry"]
    assert width > 0
    assert height > 0
    # xwininfo: a window of this app's, inside trayer's panel, at the icon's place.
    (line,) = result["embedded"]
    assert f'"{APP_NAME}"' in line
    assert line.endswith(f"{width}x{height}+0+0  +{x}+{y}")


def test_the_tooltip_carries_the_connection_state() -> None:
    assert session().result["tooltips"] == [
        "gymdesk — Connecting…",
        "gymdesk — Live",
        "gymdesk — Reconnecting… (connection refused)",
    ]


def test_the_menu_shows_mutes_and_quits_by_real_clicks() -> None:
    result = session().result
    assert result["menu_is_context_menu"]
    assert result["menu"] == ["Show window", "Mute alerts for 1 h", "Quit"]
    # A left click on the icon, then two right clicks (each opening the menu).
    assert result["activations"] == ["Trigger", "Context", "Context"]
    assert result["window_hidden_before"]
    assert result["left_click_shows_window"]
    assert result["right_click_opens_menu"]
    assert not result["muted_before"]
    assert result["muted_after"]  # "Mute alerts for 1 h", clicked in the real menu
    assert result["calls"] == ["quit"]  # "Quit", clicked in the real menu


def test_alerts_show_as_balloons_by_the_icon() -> None:
    result = session().result
    assert "Alerts muted" in result["mute_balloon"]
    assert any(text.startswith("No busy-class alerts until ") for text in result["mute_balloon"])
    assert "Expect a busy class" in result["notify_balloon"]
    assert "18:00 Spin (A) — 18/20" in result["notify_balloon"]


def test_closing_takes_the_icon_out_of_the_tray() -> None:
    result = session().result
    assert result["hidden_after_close"]
    assert result["embedded_after_close"] == []


def test_qt_warned_of_nothing_on_a_real_display() -> None:
    run = session()
    assert run.result["qt_warnings"] == [], run.stderr


def test_the_x_session_leaves_nothing_running() -> None:
    run = session()
    assert len(run.started) == 2  # Xvfb and trayer
    assert run.survivors == []
    assert not run.lock_left  # Xvfb went away cleanly and freed its display


def late_session() -> TrayRun:
    """Return what the session whose tray came late showed."""
    return checked(run_late_tray_session)


def test_a_tray_that_comes_after_the_desk_takes_over_from_the_toasts() -> None:
    result = late_session().result
    assert result["platform"] == "xcb"
    assert result["tray_at_start"] is False  # no tray yet: trayer starts after the cue
    assert result["adapter_at_start"] == "ToastAdapter"
    assert result["watching_at_start"] == [True]
    assert result["toast_visible_before"]
    assert result["switched"], result
    assert result["switched_after_s"] < 15  # a check every 2 s; trayer needs a moment
    assert result["adapter_after"] == "TrayAdapter"
    assert result["watching_after"] == [False]  # found: no more looking
    assert result["toasts_after"] == 0  # the toasts adapter closed
    assert not result["toast_visible_after"]
    assert result["said"] == [
        "alerts: no system tray on this desktop; using in-app toasts",
        "alerts: a system tray appeared; using it from now on",
    ]
    assert result["visible"]
    assert result["tooltip"] == "gymdesk — Live"  # the state at the moment it switched


def test_the_late_icon_is_embedded_in_the_tray_once_and_leaves_on_close() -> None:
    result = late_session().result
    x, y, width, height = result["geometry"]
    assert width > 0
    assert height > 0
    (line,) = result["embedded"]
    assert f'"{APP_NAME}"' in line
    assert line.endswith(f"{width}x{height}+0+0  +{x}+{y}")
    assert result["embedded_later"] == result["embedded"]  # no second icon later
    assert result["hidden_after_close"]
    assert result["embedded_after_close"] == []


def test_the_late_session_warned_of_nothing_and_leaves_nothing_running() -> None:
    run = late_session()
    assert run.result["qt_warnings"] == [], run.stderr
    assert len(run.started) == 2  # Xvfb, then trayer after the cue
    assert run.survivors == []
    assert not run.lock_left
