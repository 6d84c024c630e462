"""Settings from a TOML file, then environment variables, then command-line flags.

Each later source overrides the earlier one, field by field. The password is never read
from the file nor written anywhere: it comes from ``GYMDESK_PASSWORD``, the OS keyring
or a prompt.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from gymdesk.domain.contract import DEFAULT_PREFIX
from gymdesk.domain.state import DEFAULT_BUSY_THRESHOLD, DEFAULT_CURRENCY, StateSettings
from gymdesk.stream.settings import DEFAULT_FETCH_MAX_WAIT_MS, ConnectionSettings

ENV_PREFIX: Final = "GYMDESK_"


class ConfigError(ValueError):
    """A setting that cannot be used; the message is one line for people."""


@dataclass(frozen=True)
class AppConfig:
    """Every setting of gymdesk, flat; the TOML file groups them in sections."""

    # [connection]
    bootstrap_servers: str = "localhost:9092"
    client_id: str = "gymdesk"
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "PLAIN"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    fetch_max_wait_ms: int = DEFAULT_FETCH_MAX_WAIT_MS
    # [gym]
    topic_prefix: str = DEFAULT_PREFIX
    timezone: str | None = None  # None: the machine's zone
    busy_threshold: float = DEFAULT_BUSY_THRESHOLD
    period: str | None = None
    currency: str = DEFAULT_CURRENCY  # what sales and targets are in (ISO 4217)
    # [desk]
    alert_window_h: float = 3.0
    location: str | None = None
    role: str | None = None
    # [storage]
    state_dir: str | None = None
    snapshot: bool = True

    def connection(self) -> ConnectionSettings:
        """Return the connection settings for the reader."""
        return ConnectionSettings(
            bootstrap_servers=self.bootstrap_servers,
            client_id=self.client_id,
            security_protocol=self.security_protocol,  # type: ignore[arg-type]
            sasl_mechanism=self.sasl_mechanism,  # type: ignore[arg-type]
            username=self.username,
            password=self.password,
            ca_file=self.ca_file,
            cert_file=self.cert_file,
            key_file=self.key_file,
            fetch_max_wait_ms=self.fetch_max_wait_ms,
        )

    def zone(self) -> ZoneInfo:
        """Return the configured time zone (the machine's when none), or raise ConfigError."""
        name = self.timezone or local_zone_name()
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"unknown time zone {name!r}") from None

    def state_settings(self) -> StateSettings:
        """Return the settings of the local state."""
        if not 0 < self.busy_threshold <= 1:
            raise ConfigError(f"busy threshold must be in (0, 1], not {self.busy_threshold}")
        if not re.fullmatch(r"[A-Z]{3}", self.currency):
            raise ConfigError(f"currency must be a code like EUR, not {self.currency!r}")
        return StateSettings(
            prefix=self.topic_prefix,
            busy_threshold=self.busy_threshold,
            zone=self.zone(),
            period=self.period,
            currency=self.currency,
        )

    def state_path(self) -> Path:
        """Return the directory for snapshots."""
        if self.state_dir:
            return Path(self.state_dir).expanduser()
        return Path(platformdirs.user_state_dir("gymdesk", appauthor=False))


def local_zone_name() -> str:
    """Return the IANA name of the machine's time zone, UTC when it cannot be told."""
    tz = os.environ.get("TZ")
    if tz and not tz.startswith(":"):
        return tz
    try:
        target = os.path.realpath("/etc/localtime")
        marker = "zoneinfo/"
        if marker in target:
            return target.split(marker, 1)[1]
    except OSError:
        pass
    return "UTC"


def default_config_path() -> Path:
    """Return the per-platform path of the config file."""
    return Path(platformdirs.user_config_dir("gymdesk", appauthor=False)) / "gymdesk.toml"


_FIELDS: Final = {f.name: f for f in fields(AppConfig)}
_SECRET: Final = frozenset({"password"})


def _coerce(name: str, value: Any) -> Any:
    """Convert a raw value (string from the environment, or TOML) to the field's type."""
    kind = str(_FIELDS[name].type)
    if value is None:
        return None
    try:
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float"):
            return float(value)
        if kind.startswith("bool"):
            if isinstance(value, bool):
                return value
            return str(value).strip().lower() in ("1", "true", "yes", "on")
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: {value!r} is not a valid {kind.split(' ')[0]}") from None
    return str(value)


def from_toml(path: Path) -> dict[str, Any]:
    """Read the settings of a TOML file (sections are flattened), or raise ConfigError."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    flat: dict[str, Any] = {}
    for section, values in data.items():
        items = values.items() if isinstance(values, dict) else [(section, values)]
        for name, value in items:
            if name in _SECRET:
                raise ConfigError(f"{path}: put the password in the keyring, not in the file")
            if name not in _FIELDS:
                raise ConfigError(f"{path}: unknown setting {name!r}")
            flat[name] = _coerce(name, value)
    return flat


def from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Read ``GYMDESK_<SETTING>`` variables."""
    return {
        name: _coerce(name, environ[ENV_PREFIX + name.upper()])
        for name in _FIELDS
        if ENV_PREFIX + name.upper() in environ
    }


def load_config(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> AppConfig:
    """Merge file, environment and flags (lowest precedence first) into one AppConfig."""
    merged: dict[str, Any] = {}
    merged.update(from_toml(path or default_config_path()))
    merged.update(from_env(os.environ if environ is None else environ))
    merged.update({k: _coerce(k, v) for k, v in (flags or {}).items() if v is not None})
    return replace(AppConfig(), **merged)


def to_toml(config: AppConfig) -> str:
    """Render the non-secret, non-default settings as a TOML document."""
    sections = {
        "connection": [
            "bootstrap_servers", "client_id", "security_protocol", "sasl_mechanism",
            "username", "ca_file", "cert_file", "key_file", "fetch_max_wait_ms",
        ],
        "gym": ["topic_prefix", "timezone", "busy_threshold", "period", "currency"],
        "desk": ["alert_window_h", "location", "role"],
        "storage": ["state_dir", "snapshot"],
    }  # fmt: skip
    default = AppConfig()
    lines: list[str] = []
    for section, names in sections.items():
        body = []
        for name in names:
            value = getattr(config, name)
            if value is None or value == getattr(default, name):
                continue
            if isinstance(value, bool):
                body.append(f"{name} = {'true' if value else 'false'}")
            elif isinstance(value, int | float):
                body.append(f"{name} = {value}")
            else:
                escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
                body.append(f'{name} = "{escaped}"')
        if body:
            lines += [f"[{section}]", *body, ""]
    return "\n".join(lines)


def save_config(config: AppConfig, path: Path) -> OSError | None:
    """Write the settings file (never a secret); return the error if it cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_toml(config), encoding="utf-8")
    except OSError as exc:
        return exc
    return None
