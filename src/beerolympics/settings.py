"""Settings: one table drives environment variables, CLI flags, ``--help`` and the README.

Each :class:`Setting` is read from ``--flag-name`` (on commands that take it), else from
``BEEROLYMPICS_NAME``, else its default. A bad value raises :class:`SettingsError` naming the
setting and where the value came from.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Final, Literal

from beerolympics.ports.ratelimiter import Rate

ENV_PREFIX: Final = "BEEROLYMPICS_"

Kind = Literal["str", "int", "float", "bool", "path", "url", "rate"]


class SettingsError(ValueError):
    """A setting has a value that cannot be used."""


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    kind: Kind
    default: Any
    help: str
    #: Which commands take it as a flag: "serve" (the server) or "all" (every command).
    commands: Literal["serve", "all"] = "serve"
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


SETTINGS: Final[tuple[Setting, ...]] = (
    Setting("host", "str", "127.0.0.1", "Address to listen on (0.0.0.0 for the whole network)."),
    Setting("port", "int", 8000, "Port to listen on.", minimum=0, maximum=65535),
    Setting(
        "data_dir",
        "path",
        "./data",
        "Folder for the embedded database and the generated secret; created on first run.",
        commands="all",
    ),
    Setting(
        "database_url",
        "url",
        "",
        "Event store: sqlite:///path, postgresql://user@host:port/db or memory://."
        " Empty means sqlite:///<data_dir>/beerolympics.db.",
        commands="all",
    ),
    Setting("pg_pool_min", "int", 2, "PostgreSQL pool: connections kept open.", "all", 1, 100),
    Setting("pg_pool_max", "int", 10, "PostgreSQL pool: most connections.", "all", 1, 500),
    Setting(
        "secret_key",
        "str",
        "",
        "Signs credentials. Empty: generated once into <data_dir>/secret.key. Every instance"
        " of one deployment needs the same value.",
        commands="all",
    ),
    Setting("demo", "bool", False, "Load the demo tournament into an empty store at start-up."),
    Setting(
        "cookie_secure",
        "bool",
        False,
        "Mark credential cookies Secure (set when served over HTTPS).",
    ),
    Setting(
        "public_s_maxage",
        "int",
        2,
        "Seconds a shared cache (CDN, reverse proxy) may serve a public read without asking.",
        minimum=0,
        maximum=3600,
    ),
    Setting(
        "stale_while_revalidate",
        "int",
        30,
        "Seconds a shared cache may serve a stale public read while it refreshes it.",
        minimum=0,
        maximum=86400,
    ),
    Setting(
        "poll_interval",
        "float",
        1.0,
        "Seconds between looks for events written by other instances.",
        minimum=0.05,
        maximum=60,
    ),
    Setting(
        "max_body_bytes",
        "int",
        65536,
        "Largest accepted request body.",
        minimum=1024,
        maximum=2**26,
    ),
    Setting(
        "log_level",
        "str",
        "info",
        "Logging level.",
        commands="all",
        choices=("debug", "info", "warning", "error"),
    ),
    Setting("log_format", "str", "text", "Log lines as text or json.", choices=("text", "json")),
    Setting(
        "access_log", "bool", False, "Log every HTTP request (route, status, time, request id)."
    ),
    Setting(
        "forwarded_allow_ips",
        "str",
        "127.0.0.1",
        "Proxies trusted to tell the client's address (X-Forwarded-For), comma-separated or *."
        " Limits per address count the real client behind them.",
    ),
    Setting(
        "pubsub_url",
        "url",
        "memory://",
        "Live fan-out between instances: memory:// (one instance) or redis://host:port/db.",
        commands="all",
    ),
    Setting(
        "rate_limit_url",
        "url",
        "memory://",
        "Where request counts for rate limits live: memory:// (one instance) or"
        " redis://host:port/db (shared, so a limit holds across instances; ?prefix=name"
        " keeps deployments on one Redis apart).",
        commands="all",
    ),
    Setting(
        "rate_limit_api",
        "rate",
        "100/minute",
        "Requests one credential may make (public reads served from the cache are not counted).",
    ),
    Setting(
        "rate_limit_anonymous",
        "rate",
        "6000/minute",
        "Requests one address may make without a credential: a whole party behind one router"
        " shares it (100 phones at 60 a minute).",
    ),
    Setting(
        "rate_limit_signin",
        "rate",
        "10/minute",
        "Password sign-ins one address may try.",
    ),
    Setting(
        "snapshot_dir",
        "str",
        "",
        "Folder for snapshots of the projections (a restart loads the newest, then the events"
        " after it). Empty: <data_dir>/snapshots. With a memory:// store there are none.",
        commands="all",
    ),
    Setting(
        "snapshot_interval",
        "float",
        300.0,
        "Seconds between looks at whether a new snapshot is due (written by a forked child).",
        minimum=1,
        maximum=86400,
    ),
    Setting(
        "snapshot_min_events",
        "int",
        10_000,
        "Events applied since the last snapshot before the next one is written (also at shutdown).",
        minimum=1,
        maximum=10**9,
    ),
    Setting(
        "statsd_address",
        "str",
        "",
        "Also send the metrics to this StatsD server (host:port, UDP). Empty: off.",
    ),
    Setting("statsd_prefix", "str", "beerolympics", "Prefix of every StatsD metric name."),
    Setting(
        "statsd_interval",
        "float",
        10.0,
        "Seconds between sends to StatsD.",
        minimum=1,
        maximum=3600,
    ),
    Setting(
        "live_window_ms",
        "int",
        100,
        "Live: events within this window go out as one frame.",
        minimum=0,
        maximum=5000,
    ),
    Setting(
        "live_heartbeat",
        "float",
        15.0,
        "Live: seconds between heartbeats; a silent client is dropped after two.",
        minimum=1,
        maximum=300,
    ),
    Setting(
        "live_max_connections",
        "int",
        10,
        "Live: connections one credential may keep open (a person's phones and tabs).",
        minimum=1,
        maximum=100_000,
    ),
    Setting(
        "live_max_anonymous",
        "int",
        500,
        "Live: connections one address may keep open without a credential: a whole party"
        " behind one router shares it (a few hundred phones and the TV).",
        minimum=1,
        maximum=1_000_000,
    ),
    Setting(
        "live_fallback_poll",
        "int",
        10,
        "Live: seconds between the checks a page makes for changes while its live updates are"
        " off (refused, or not back after a restart).",
        minimum=1,
        maximum=3600,
    ),
    Setting(
        "live_messages_per_minute",
        "int",
        100,
        "Live: messages a client may send per minute.",
        minimum=1,
        maximum=100_000,
    ),
    Setting(
        "live_max_subscriptions",
        "int",
        20,
        "Live: channels one connection may follow.",
        minimum=1,
        maximum=1000,
    ),
    Setting(
        "live_max_message_bytes",
        "int",
        4096,
        "Live: largest message a client may send.",
        minimum=256,
        maximum=1_048_576,
    ),
    Setting(
        "live_send_buffer",
        "int",
        256,
        "Live: frames queued for one client before it counts as too slow.",
        minimum=4,
        maximum=100_000,
    ),
    Setting(
        "live_compression",
        "bool",
        True,
        "Live: compress frames for WebSocket clients that offer it (permessage-deflate, once for"
        " many sockets; not offered to Safari and iOS), and Server-Sent Events for clients that"
        " take gzip.",
    ),
    Setting(
        "live_replay_limit",
        "int",
        2000,
        "Live: a client further behind than this many events gets a snapshot.",
        minimum=10,
        maximum=1_000_000,
    ),
    Setting(
        "jobs_url",
        "url",
        "",
        "Background job queue: sqlite:///path, redis://host:port/db (?queue=name) or memory://."
        " Empty means sqlite:///<data_dir>/jobs.db.",
        commands="all",
    ),
    Setting(
        "job_processes",
        "int",
        1,
        "Background jobs: processes for CPU-heavy work (photos, clips). With 0, serve runs no"
        " jobs itself: run beerolympics worker processes.",
        commands="all",
        minimum=0,
        maximum=64,
    ),
    Setting(
        "job_concurrency",
        "int",
        2,
        "Background jobs: attempts one consumer runs at once.",
        commands="all",
        minimum=1,
        maximum=256,
    ),
    Setting(
        "media_url",
        "url",
        "",
        "Media storage: file:///path or s3://bucket/prefix?endpoint=URL&region=NAME (credentials"
        " from the AWS_* variables). Empty means <data_dir>/media.",
        commands="all",
    ),
    Setting(
        "media_public_url",
        "str",
        "",
        "Base URL phones fetch media from (the bucket, or a CDN in front of it). Empty: the app"
        " serves media itself.",
        commands="all",
    ),
    Setting(
        "media_max_photo_mb",
        "int",
        25,
        "Media: largest photo upload, in MB.",
        commands="all",
        minimum=1,
        maximum=500,
    ),
    Setting(
        "media_max_clip_mb",
        "int",
        100,
        "Media: largest clip upload, in MB.",
        commands="all",
        minimum=1,
        maximum=5000,
    ),
    Setting(
        "media_max_clip_seconds",
        "int",
        60,
        "Media: longest clip, in seconds.",
        commands="all",
        minimum=1,
        maximum=3600,
    ),
    Setting(
        "media_max_megapixels",
        "int",
        50,
        "Media: most megapixels in a photo or a frame (larger ones are refused unread).",
        commands="all",
        minimum=1,
        maximum=1000,
    ),
    Setting(
        "media_max_frames",
        "int",
        300,
        "Media: most frames in an animated image.",
        commands="all",
        minimum=1,
        maximum=100_000,
    ),
    Setting(
        "media_quota_gb",
        "float",
        10.0,
        "Media: storage per tournament, in GB (originals and variants).",
        commands="all",
        minimum=0.001,
        maximum=100_000,
    ),
    Setting(
        "rate_limit_uploads",
        "rate",
        "10/minute",
        "Media uploads per credential (or per address, for spectators).",
    ),
    Setting(
        "vapid_private_key",
        "str",
        "",
        "Web Push: the VAPID private key that signs pushes (PEM). Empty: generated once into"
        " <data_dir>/vapid.pem. Every instance and worker of one deployment needs the same key.",
        commands="all",
    ),
    Setting(
        "vapid_subject",
        "str",
        "mailto:push@beerolympics.invalid",
        "Web Push: how push services reach whoever runs this server (a mailto: or https: URL).",
        commands="all",
    ),
    Setting(
        "notify_allow_private",
        "bool",
        False,
        "Webhooks and pushes may go to private and loopback addresses (a receiver on the party"
        " LAN) and push endpoints may be plain http. Link-local (cloud metadata), multicast and"
        " unspecified addresses are always refused.",
        commands="all",
    ),
    Setting(
        "notify_timeout",
        "float",
        10.0,
        "Webhooks and pushes: seconds one delivery may take (connect, send, answer).",
        commands="all",
        minimum=0.5,
        maximum=120,
    ),
    Setting(
        "notify_retry_seconds",
        "float",
        10.0,
        "Webhooks and pushes: seconds before the first retry of a failed delivery; each next"
        " wait is three times longer, at most an hour.",
        commands="all",
        minimum=0.01,
        maximum=3600,
    ),
    Setting(
        "job_lost_after",
        "float",
        30.0,
        "Background jobs: seconds without a heartbeat after which a worker's jobs are retried.",
        commands="all",
        minimum=2,
        maximum=3600,
    ),
)
BY_NAME: Final = {s.name: s for s in SETTINGS}


@dataclass(frozen=True, slots=True)
class Settings:
    host: str
    port: int
    data_dir: Path
    database_url: str
    pg_pool_min: int
    pg_pool_max: int
    secret_key: str
    demo: bool
    cookie_secure: bool
    public_s_maxage: int
    stale_while_revalidate: int
    poll_interval: float
    max_body_bytes: int
    log_level: str
    log_format: str
    access_log: bool
    forwarded_allow_ips: str
    pubsub_url: str
    rate_limit_url: str
    rate_limit_api: str
    rate_limit_anonymous: str
    rate_limit_signin: str
    snapshot_dir: str
    snapshot_interval: float
    snapshot_min_events: int
    statsd_address: str
    statsd_prefix: str
    statsd_interval: float
    live_window_ms: int
    live_heartbeat: float
    live_max_connections: int
    live_max_anonymous: int
    live_fallback_poll: int
    live_messages_per_minute: int
    live_max_subscriptions: int
    live_max_message_bytes: int
    live_send_buffer: int
    live_compression: bool
    live_replay_limit: int
    jobs_url: str
    job_processes: int
    job_concurrency: int
    media_url: str
    media_public_url: str
    media_max_photo_mb: int
    media_max_clip_mb: int
    media_max_clip_seconds: int
    media_max_megapixels: int
    media_max_frames: int
    media_quota_gb: float
    rate_limit_uploads: str
    vapid_private_key: str
    vapid_subject: str
    notify_allow_private: bool
    notify_timeout: float
    notify_retry_seconds: float
    job_lost_after: float

    @classmethod
    def load(
        cls, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Settings from ``overrides`` (e.g. CLI flags; ``None`` values ignored), then env."""
        env = os.environ if environ is None else environ
        given = {k: v for k, v in (overrides or {}).items() if v is not None}
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            if setting.name in given:
                values[setting.name] = parse(setting, given[setting.name], setting.flag)
            elif setting.env in env:
                values[setting.name] = parse(setting, env[setting.env], setting.env)
            else:
                values[setting.name] = parse(setting, setting.default, "default")
        unknown = set(given) - set(BY_NAME)
        if unknown:
            raise SettingsError(f"unknown settings: {', '.join(sorted(unknown))}")
        settings = cls(**values)
        if settings.pg_pool_min > settings.pg_pool_max:
            raise SettingsError("pg_pool_min cannot be larger than pg_pool_max")
        host, _, port = settings.statsd_address.rpartition(":")
        if settings.statsd_address and not (host and port.isdigit() and int(port) < 65536):
            raise SettingsError(
                f"statsd_address: expected host:port, got {settings.statsd_address!r}"
            )
        return settings

    @property
    def snapshot_folder(self) -> Path | None:
        """Where snapshots go; None for a memory:// store (nothing survives it anyway)."""
        if self.store_url.startswith("memory://"):
            return None
        if self.snapshot_dir:
            return Path(self.snapshot_dir).expanduser()
        return self.data_dir / "snapshots"

    @property
    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'beerolympics.db'}"

    @property
    def job_queue_url(self) -> str:
        return self.jobs_url or f"sqlite:///{self.data_dir / 'jobs.db'}"

    def resolved_secret(self) -> str:
        """The signing secret: the setting, else the one kept in the data folder (made once)."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_URL_SCHEMES: Final = {
    "database_url": ("sqlite:///", "postgresql://", "postgres://", "memory://"),
    "pubsub_url": ("memory://", "redis://", "rediss://"),
    "rate_limit_url": ("memory://", "redis://", "rediss://"),
    "jobs_url": ("sqlite:///", "redis://", "rediss://", "memory://"),
    "media_url": ("file:///", "s3://"),
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse(setting: Setting, raw: Any, source: str) -> Any:
    """Turn ``raw`` into the setting's type, or raise :class:`SettingsError` naming it."""

    def bad(expected: str) -> SettingsError:
        return SettingsError(f"{setting.name} ({source}): expected {expected}, got {raw!r}")

    value: Any
    if setting.kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise bad("true or false")
    if setting.kind in ("int", "float"):
        try:
            value = int(raw) if setting.kind == "int" else float(raw)
        except (TypeError, ValueError):
            raise bad("an integer" if setting.kind == "int" else "a number") from None
        if setting.minimum is not None and value < setting.minimum:
            raise bad(f"at least {setting.minimum:g}")
        if setting.maximum is not None and value > setting.maximum:
            raise bad(f"at most {setting.maximum:g}")
        return value
    if setting.kind == "path":
        return Path(str(raw)).expanduser()
    if setting.kind == "rate":
        try:
            return str(Rate.parse(str(raw)))
        except ValueError:
            raise bad("a rate such as 100/minute") from None
    value = str(raw).strip()
    if setting.choices and value.lower() not in setting.choices:
        raise bad("one of " + ", ".join(setting.choices))
    schemes = _URL_SCHEMES.get(setting.name, ())
    if setting.kind == "url" and value and not value.startswith(schemes):
        raise bad("a URL starting with " + " or ".join(schemes))
    return value.lower() if setting.choices else value


def markdown_table() -> str:
    """The settings as the Markdown table the README embeds."""
    lines = [
        "| Setting | Environment variable | Flag | Default | Description |",
        "|---|---|---|---|---|",
    ]
    for s in SETTINGS:
        default = f"`{s.default}`" if s.default not in ("", None) else "(empty)"
        flag = f"`{s.flag}`" + ("" if s.commands == "all" else " (serve)")
        lines.append(f"| {s.name} | `{s.env}` | {flag} | {default} | {s.help} |")
    return "\n".join(lines)
