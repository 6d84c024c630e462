"""How to reach the cluster: bootstrap servers, security, and reader tuning."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
SECURITY_PROTOCOLS: Final = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS: Final = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
# How long the broker may hold a fetch that finds nothing new. Kafka answers such a fetch
# as soon as a record arrives, so the wait costs no latency, and an idle desk sends two
# fetches a second instead of a hundred (Kafka's and aiokafka's default). A broker that
# answers only when the wait expires needs it low: the embedded one's clients ask for
# ``gymdesk.sim.broker.FETCH_MAX_WAIT_MS``.
DEFAULT_FETCH_MAX_WAIT_MS: Final = 500


class SettingsError(ValueError):
    """A connection setting that cannot work; the message is one line for people."""


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything needed to open a connection to the cluster."""

    bootstrap_servers: str = "localhost:9092"
    client_id: str = "gymdesk"
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "PLAIN"
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never printed
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    fetch_max_wait_ms: int = DEFAULT_FETCH_MAX_WAIT_MS
    request_timeout_ms: int = 15_000

    def with_password(self, password: str | None) -> ConnectionSettings:
        """Return a copy carrying ``password`` (kept in memory only)."""
        return replace(self, password=password)

    def client_kwargs(self) -> dict[str, Any]:
        """Return the aiokafka keyword arguments for these settings, or raise SettingsError."""
        if not self.bootstrap_servers.strip():
            raise SettingsError("no bootstrap servers given")
        if self.security_protocol not in SECURITY_PROTOCOLS:
            raise SettingsError(f"unknown security protocol {self.security_protocol!r}")
        kwargs: dict[str, Any] = {
            "bootstrap_servers": [
                s.strip() for s in self.bootstrap_servers.split(",") if s.strip()
            ],
            "client_id": self.client_id,
            "security_protocol": self.security_protocol,
            "request_timeout_ms": self.request_timeout_ms,
        }
        if self.security_protocol.startswith("SASL"):
            if self.sasl_mechanism not in SASL_MECHANISMS:
                raise SettingsError(f"unknown SASL mechanism {self.sasl_mechanism!r}")
            if not self.username:
                raise SettingsError(f"{self.security_protocol} needs a user name")
            kwargs["sasl_mechanism"] = self.sasl_mechanism
            kwargs["sasl_plain_username"] = self.username
            kwargs["sasl_plain_password"] = self.password or ""
        if self.security_protocol in ("SSL", "SASL_SSL"):
            kwargs["ssl_context"] = self.ssl_context()
        return kwargs

    def ssl_context(self) -> ssl.SSLContext:
        """Build the TLS context from the CA file and client certificate, or raise SettingsError."""
        try:
            context = ssl.create_default_context(cafile=self.ca_file)
            if self.cert_file:
                context.load_cert_chain(self.cert_file, self.key_file)
        except FileNotFoundError as exc:
            raise SettingsError(f"certificate file not found: {exc.filename}") from None
        except (ssl.SSLError, OSError) as exc:
            raise SettingsError(f"cannot use the TLS files: {exc}") from None
        return context
