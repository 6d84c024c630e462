"""gymdesk: a live, tailored desktop view of a gym business, fed by Kafka changelog topics."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gymdesk")
except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0.0.0+unknown"
