"""The ``gymdesk`` command line: the app, ``demo``, ``simulate``, ``state`` and ``self-test``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from gymdesk import __version__
from gymdesk.app.config import AppConfig, ConfigError, load_config
from gymdesk.app.credentials import load_password
from gymdesk.stream.logthrottle import throttle_client_logs

ROLES = ("receptionist", "instructor", "wallboard")


def _add_connection_flags(parser: argparse.ArgumentParser, *, bootstrap_required: bool) -> None:
    """Add the flags every command that talks to the cluster takes."""
    group = parser.add_argument_group("connection")
    group.add_argument("--config", type=Path, help="TOML config file (default: per-user)")
    group.add_argument(
        "--bootstrap-servers", required=bootstrap_required, metavar="HOST:PORT[,HOST:PORT]"
    )
    group.add_argument("--client-id")
    group.add_argument(
        "--security-protocol", choices=("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
    )
    group.add_argument("--sasl-mechanism", choices=("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"))
    group.add_argument("--username")
    group.add_argument("--ca-file")
    group.add_argument("--cert-file")
    group.add_argument("--key-file")
    group.add_argument("--fetch-max-wait-ms", type=int)
    group.add_argument("--topic-prefix", metavar="PREFIX", help="default: gym.")


def _add_gym_flags(parser: argparse.ArgumentParser) -> None:
    """Add the flags that shape the aggregates."""
    parser.add_argument("--period", metavar="YYYY-MM", help="sales period (default: this month)")
    parser.add_argument("--timezone", metavar="ZONE", help="IANA zone (default: the machine's)")
    parser.add_argument("--busy-threshold", type=float, metavar="FILL", help="default 0.8")
    parser.add_argument(
        "--currency", metavar="CODE", help="what sales and targets are in (default EUR)"
    )
    storage = parser.add_mutually_exclusive_group()
    storage.add_argument("--state-dir", metavar="DIR", help="where snapshots live")
    storage.add_argument("--no-snapshot", action="store_true", help="keep nothing on disk")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="gymdesk", description="A live view of the gym, fed by Kafka changelog topics."
    )
    parser.add_argument("--version", action="version", version=f"gymdesk {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("--role", choices=ROLES)
    parser.add_argument("--fullscreen", action="store_true", help="full screen (the wallboard)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    state = sub.add_parser("state", help="print what the app would show, as JSON")
    _add_connection_flags(state, bootstrap_required=True)
    _add_gym_flags(state)
    state.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS")

    simulate = sub.add_parser("simulate", help="run the simulated gym against a cluster")
    simulate.add_argument("--bootstrap-servers", required=True, metavar="HOST:PORT")
    simulate.add_argument("--topic-prefix", default="gym.", metavar="PREFIX")
    simulate.add_argument("--seed", type=int, default=None)
    simulate.add_argument("--speed", type=float, default=60.0, help="gym minutes per second")
    simulate.add_argument("--days", type=float, default=None, help="stop after D gym days")
    simulate.add_argument("--timezone", metavar="ZONE")

    demo = sub.add_parser("demo", help="an embedded broker, a simulated gym, and the app")
    demo.add_argument("--role", dest="demo_role", choices=ROLES)
    demo.add_argument("--speed", type=float, default=60.0, help="gym minutes per second")
    demo.add_argument("--seed", type=int, default=None)
    demo.add_argument("--fullscreen", dest="demo_fullscreen", action="store_true")

    selftest = sub.add_parser(
        "self-test",
        help="prove on this machine that gymdesk works: broker, simulator, reader, windows",
    )
    selftest.add_argument(
        "--timeout",
        dest="selftest_timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long reading the topics back may take (default 60)",
    )
    selftest.add_argument(
        "--seconds",
        dest="selftest_seconds",
        type=float,
        default=3.0,
        help="how long the simulated gym runs live (default 3)",
    )
    selftest.add_argument("--seed", dest="selftest_seed", type=int, default=None)

    return parser


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    """Return the config fields given on the command line."""
    names = (
        "bootstrap_servers", "client_id", "security_protocol", "sasl_mechanism", "username",
        "ca_file", "cert_file", "key_file", "fetch_max_wait_ms", "topic_prefix", "period",
        "timezone", "busy_threshold", "currency", "state_dir", "role",
    )  # fmt: skip
    flags = {name: getattr(args, name, None) for name in names}
    if getattr(args, "no_snapshot", False):
        flags["snapshot"] = False
    return flags


def _setup_logging(verbose: int) -> None:
    """Log to stderr; the Kafka client's repeated errors are rate-limited to one line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    throttle_client_logs(handler)
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # aiokafka reports every failed connection attempt at ERROR; the status says it once.
    logging.getLogger("aiokafka").setLevel(max(level, logging.CRITICAL if not verbose else level))


def resolve_config(args: argparse.Namespace) -> AppConfig:
    """Merge the config file, environment and flags, and fetch the password."""
    config = load_config(getattr(args, "config", None), os.environ, _flags(args))
    if config.password is None and config.username:
        password = os.environ.get("GYMDESK_PASSWORD") or load_password(
            config.username, config.bootstrap_servers
        )
        config = replace(config, password=password)
    return config


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        if args.command == "state":
            from gymdesk.app.statecmd import run_state

            return run_state(resolve_config(args), args.timeout)
        if args.command == "simulate":
            from gymdesk.sim.simulator import run_simulate

            return run_simulate(
                args.bootstrap_servers, args.topic_prefix, args.seed, args.speed, args.days
            )
        if args.command == "self-test":
            from gymdesk.app.selftest import SelfTestOptions, run_selftest

            return run_selftest(
                SelfTestOptions(
                    timeout_s=args.selftest_timeout,
                    seconds=args.selftest_seconds,
                    seed=args.selftest_seed,
                    verbose=args.verbose,
                )
            )
        if args.command == "demo":
            from gymdesk.app.main import run_demo

            return run_demo(args)
        from gymdesk.app.main import run_app

        return run_app(args, resolve_config(args))
    except ConfigError as exc:
        print(f"gymdesk: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
