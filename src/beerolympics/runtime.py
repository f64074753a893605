"""Wiring: adapters chosen by URL, projections and services, built from settings.

:class:`Runtime` is everything but the web: the CLI's maintenance commands use it alone and the
web app (``app.py``) wraps it. Nothing here is global; every instance is built and passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from beerolympics.adapters.huey.jobqueue import memory_job_queue, redis_job_queue, sqlite_job_queue
from beerolympics.adapters.localfs.mediastore import LocalMediaStore
from beerolympics.adapters.memory.eventstore import MemoryEventStore
from beerolympics.adapters.memory.pubsub import MemoryPubSub
from beerolympics.adapters.memory.ratelimiter import MemoryRateLimiter
from beerolympics.adapters.sqlite.eventstore import SQLiteEventStore
from beerolympics.domain.events import EventCodec
from beerolympics.jobs.cpu import CpuPool
from beerolympics.jobs.kinds import JobKinds
from beerolympics.jobs.registry import CPU_MODULES, job_kinds
from beerolympics.jobs.supervisor import Supervisor
from beerolympics.jobs.worker import JobWorker
from beerolympics.metrics import Metrics, ObservedEventStore
from beerolympics.notify.push import application_server_key, load_vapid_key
from beerolympics.notify.reactor import Reactor
from beerolympics.ports.eventstore import EventStore
from beerolympics.ports.jobqueue import JobQueue
from beerolympics.ports.mediastore import MediaStore
from beerolympics.ports.pubsub import PubSub
from beerolympics.projections.catalog import Catalog
from beerolympics.projections.highlights import Highlights
from beerolympics.projections.jobs import Jobs
from beerolympics.projections.media import Media
from beerolympics.projections.notifications import Notifications
from beerolympics.projections.play import Play
from beerolympics.projections.projector import Projector
from beerolympics.projections.snapshots import Snapshots, long_lived_state
from beerolympics.services.conductor import Clock, Conductor
from beerolympics.services.credentials import Authenticator, CredentialSigner, PasswordHashing
from beerolympics.services.games import GameService
from beerolympics.services.highlights import HighlightRecorder, HighlightService
from beerolympics.services.jobs import JobService
from beerolympics.services.matches import MatchService
from beerolympics.services.media import MediaService
from beerolympics.services.notifications import NotificationService
from beerolympics.services.runner import CommandRunner
from beerolympics.services.throttle import Throttle
from beerolympics.services.tournaments import TournamentService
from beerolympics.settings import Settings, SettingsError

log = logging.getLogger("beerolympics")


async def open_pubsub(url: str) -> PubSub:
    """The backplane a URL names: ``memory://`` (one instance) or ``redis://…``."""
    if url.startswith("memory://"):
        return MemoryPubSub()
    try:
        from beerolympics.adapters.redis.pubsub import RedisPubSub
    except ImportError as exc:  # the optional extra is not installed
        raise SettingsError(
            "pubsub_url: Redis needs the 'redis' extra (pip install 'beerolympics[redis]')"
        ) from exc
    return await RedisPubSub.open(url)


def open_throttle(url: str) -> Throttle:
    """Rate limits counted where a URL says: ``memory://`` (this process) or ``redis://…``
    (shared by every instance; this process's memory stands in while Redis is down). A
    ``?prefix=`` on a Redis URL keeps deployments that share one Redis apart."""
    if url.startswith("memory://"):
        return Throttle(MemoryRateLimiter())
    try:
        from beerolympics.adapters.redis.ratelimiter import DEFAULT_PREFIX, RedisRateLimiter
    except ImportError as exc:  # the optional extra is not installed
        raise SettingsError(
            "rate_limit_url: Redis needs the 'redis' extra (pip install 'beerolympics[redis]')"
        ) from exc
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    prefix = query.pop("prefix", [DEFAULT_PREFIX])[0]
    plain = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
    return Throttle(RedisRateLimiter(plain, prefix=prefix), fallback=MemoryRateLimiter())


def open_media_store(settings: Settings) -> MediaStore:
    """The media store the settings name: a folder (default ``<data_dir>/media``) or S3."""
    url = settings.media_url
    if url.startswith("s3://"):
        try:
            from beerolympics.adapters.s3.mediastore import S3MediaStore
        except ImportError as exc:  # the optional extra is not installed
            raise SettingsError(
                "media_url: S3 needs the 's3' extra (pip install 'beerolympics[s3]')"
            ) from exc
        return S3MediaStore.from_url(url, settings.media_public_url)
    return LocalMediaStore(url.removeprefix("file://") if url else settings.data_dir / "media")


def open_job_queue(url: str) -> JobQueue:
    """The job queue a URL names: ``sqlite:///path``, ``redis://…`` or ``memory://``."""
    if url.startswith("sqlite:///"):
        return sqlite_job_queue(url.removeprefix("sqlite:///"))
    if url.startswith(("redis://", "rediss://")):
        try:
            return redis_job_queue(url)
        except ImportError as exc:  # the optional extra is not installed
            raise SettingsError(
                "jobs_url: Redis needs the 'redis' extra (pip install 'beerolympics[redis]')"
            ) from exc
    if url.startswith("memory://"):
        return memory_job_queue()
    raise SettingsError(f"jobs_url: unsupported URL {url!r}")


async def open_event_store(url: str, *, pool_min: int = 2, pool_max: int = 10) -> EventStore:
    """The event store a URL names: ``sqlite:///path``, ``postgresql://…`` or ``memory://``."""
    if url.startswith("sqlite:///"):
        return SQLiteEventStore(url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from beerolympics.adapters.postgres.eventstore import PostgresEventStore
        except ImportError as exc:  # the optional extra is not installed
            raise SettingsError(
                "database_url: PostgreSQL needs the 'postgres' extra (pip install"
                " 'beerolympics[postgres]')"
            ) from exc
        return await PostgresEventStore.open(url, min_size=pool_min, max_size=pool_max)
    if url.startswith("memory://"):
        return MemoryEventStore()
    raise SettingsError(f"database_url: unsupported URL {url!r}")


@dataclass
class Runtime:
    """The core of one instance: store, projections and the services over them."""

    settings: Settings
    store: EventStore
    pubsub: PubSub
    codec: EventCodec
    catalog: Catalog
    play: Play
    projector: Projector
    runner: CommandRunner
    tournaments: TournamentService
    games: GameService
    matches: MatchService
    conductor: Conductor
    authenticator: Authenticator
    signer: CredentialSigner
    throttle: Throttle
    metrics: Metrics
    job_queue: JobQueue
    job_states: Jobs
    job_kinds: JobKinds
    jobs: JobService
    supervisor: Supervisor
    snapshots: Snapshots | None
    media_store: MediaStore
    media_states: Media
    media: MediaService
    notification_states: Notifications
    notifications: NotificationService
    reactor: Reactor
    highlight_states: Highlights
    highlights: HighlightService
    recorder: HighlightRecorder
    #: The consumer that runs jobs in this process (``job_processes`` > 0), once started.
    worker: JobWorker | None = None
    _poller: asyncio.Task[None] | None = field(default=None, repr=False)
    _snapshotter: asyncio.Task[None] | None = field(default=None, repr=False)
    _push_key: str | None = field(default=None, repr=False)

    @classmethod
    async def open(cls, settings: Settings, *, clock: Clock | None = None) -> Runtime:
        """Open the store a URL names and wire everything. ``clock`` (tests) replaces the
        wall clock for deadlines and rest times."""
        store = await open_event_store(
            settings.store_url, pool_min=settings.pg_pool_min, pool_max=settings.pg_pool_max
        )
        try:
            pubsub = await open_pubsub(settings.pubsub_url)
        except BaseException:
            await store.close()
            raise
        metrics = Metrics()
        store = ObservedEventStore(store, metrics)
        try:
            queue = open_job_queue(settings.job_queue_url)
        except BaseException:
            await pubsub.close()
            await store.close()
            raise
        codec = EventCodec()
        catalog = Catalog()
        play = Play(catalog)
        job_states = Jobs()
        media_states = Media()
        highlight_states = Highlights(catalog, play, media_states)
        notification_states = Notifications(catalog, play)
        projector = Projector(
            store,
            codec,
            [catalog, play, job_states, media_states, highlight_states, notification_states],
        )
        runner = CommandRunner(store, codec, projector)
        media_store = open_media_store(settings)
        kinds = job_kinds(settings, events=store, codec=codec, media=media_store)
        jobs = JobService(runner, job_states, queue, kinds)
        signer = CredentialSigner(settings.resolved_secret())
        tournaments = TournamentService(runner, catalog, PasswordHashing())
        games = GameService(runner, tournaments, play, clock)
        matches = MatchService(runner, catalog, play, clock)
        return cls(
            settings=settings,
            store=store,
            pubsub=pubsub,
            codec=codec,
            catalog=catalog,
            play=play,
            projector=projector,
            runner=runner,
            tournaments=tournaments,
            games=games,
            matches=matches,
            conductor=Conductor(games, matches, catalog, play, clock),
            authenticator=Authenticator(signer, catalog),
            signer=signer,
            throttle=open_throttle(settings.rate_limit_url),
            metrics=metrics,
            job_queue=queue,
            job_states=job_states,
            job_kinds=kinds,
            jobs=jobs,
            supervisor=Supervisor(
                job_states, runner, queue, kinds, lost_after=settings.job_lost_after, clock=clock
            ),
            snapshots=(
                Snapshots(folder, projector)
                if (folder := settings.snapshot_folder) is not None
                else None
            ),
            media_store=media_store,
            media_states=media_states,
            media=MediaService(
                runner,
                catalog,
                play,
                media_states,
                jobs,
                media_store,
                round(settings.media_quota_gb * 1e9),
            ),
            notification_states=notification_states,
            notifications=NotificationService(
                runner,
                catalog,
                notification_states,
                job_states,
                allow_private=settings.notify_allow_private,
            ),
            reactor=Reactor(notification_states, job_states, jobs, runner, clock),
            highlight_states=highlight_states,
            highlights=HighlightService(runner, catalog, highlight_states),
            recorder=HighlightRecorder(highlight_states, runner, clock),
        )

    async def start(self) -> None:
        """Load the newest snapshot, fold the rest of the log into the projections, then keep
        following it."""
        started = time.perf_counter()
        async with long_lived_state():
            snapshot = await self.snapshots.load() if self.snapshots is not None else None
            count, _ = await self.projector.replay()
        log.info(
            "projections at position %d (%s%d events in %.2fs)",
            self.projector.position,
            f"snapshot at {snapshot.position}, then " if snapshot else "",
            count,
            time.perf_counter() - started,
        )
        self._poller = asyncio.create_task(self._poll(), name="projection-poller")
        if self.snapshots is not None:
            self._snapshotter = asyncio.create_task(
                self._snapshot_periodically(self.snapshots), name="snapshots"
            )
        self.projector.on_applied(self.conductor.notice)
        self.conductor.start()
        self.projector.on_applied(self.reactor.notice)
        self.reactor.start(self.projector.position)
        self.projector.on_applied(self.recorder.notice)
        self.recorder.start()
        self.supervisor.start()
        if self.settings.job_processes:
            self.worker = JobWorker(
                self.store,
                self.codec,
                self.job_queue,
                self.job_kinds,
                CpuPool(self.settings.job_processes, preload=CPU_MODULES),
                concurrency=self.settings.job_concurrency,
                heartbeat=self.settings.job_lost_after / 4,
                appended=self.runner.adopt,
                warm=True,
            )
            self.worker.start()

    def push_public_key(self) -> str:
        """The VAPID public key phones subscribe with (``applicationServerKey``)."""
        if self._push_key is None:
            self._push_key = application_server_key(load_vapid_key(self.settings))
        return self._push_key

    def _snapshot_due(self, snapshots: Snapshots) -> bool:
        behind = self.projector.position - snapshots.position
        return behind >= self.settings.snapshot_min_events and self.projector.failed is None

    async def _snapshot_periodically(self, snapshots: Snapshots) -> None:
        while True:
            await asyncio.sleep(self.settings.snapshot_interval)
            if self._snapshot_due(snapshots):
                try:
                    await snapshots.save_in_background()
                except Exception:
                    log.exception("starting a snapshot failed; will retry")

    async def _poll(self) -> None:
        # Picks up events other instances append; this instance's own appends are applied at
        # once by the command runner.
        while True:
            await asyncio.sleep(self.settings.poll_interval)
            try:
                await self.projector.catch_up()
            except Exception:
                log.exception("catching up with the event log failed; will retry")

    async def close(self) -> None:
        if self.worker is not None:
            await self.worker.stop()
            self.worker.cpu.close()
        await self.supervisor.stop()
        await self.recorder.stop()
        await self.reactor.stop()
        await self.conductor.stop()
        for task in (self._poller, self._snapshotter):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.snapshots is not None and self._snapshot_due(self.snapshots):
            try:
                await self.snapshots.save()
            except Exception:
                log.exception("writing a snapshot at shutdown failed")
        await self.throttle.close()
        await self.job_queue.close()
        await self.media_store.close()
        await self.pubsub.close()
        await self.store.close()
