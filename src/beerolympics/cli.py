"""The ``beerolympics`` command: serve, rebuild, export, import, settings.

Flags come from the settings table (``settings.py``): each command takes the settings that
concern it, with the environment variable and default shown in ``--help``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import IO, Any

import click
import msgspec

from beerolympics import __version__
from beerolympics.logs import configure_logging
from beerolympics.ports.eventstore import RecordedEvent, StoreNotEmpty, StoreUnavailable
from beerolympics.runtime import Runtime
from beerolympics.settings import SETTINGS, Setting, Settings, SettingsError, markdown_table


def _option(setting: Setting) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    kwargs: dict[str, Any] = {
        "default": None,
        "help": f"{setting.help} [env {setting.env}; default {setting.default!r}]",
    }
    if setting.kind == "bool":
        on, off = setting.flag, "--no-" + setting.flag[2:]
        return click.option(f"{on}/{off}", setting.name, **kwargs)
    return click.option(setting.flag, setting.name, type=str, **kwargs)


def settings_options(scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add a flag for every setting of ``scope`` ("serve" takes all of them)."""
    chosen = [s for s in SETTINGS if scope == "serve" or s.commands == "all"]

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        for setting in reversed(chosen):
            fn = _option(setting)(fn)
        return fn

    return decorate


def load_settings(values: dict[str, Any]) -> Settings:
    try:
        settings = Settings.load(
            {k: v for k, v in values.items() if k in {s.name for s in SETTINGS}}
        )
    except SettingsError as exc:
        raise click.BadParameter(str(exc)) from exc
    configure_logging(settings.log_level, settings.log_format)
    return settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="beerolympics")
def main() -> None:
    """Beer Olympics: run a multi-game party tournament from phones."""


@main.command()
@settings_options("serve")
@click.option(
    "--get",
    "get_path",
    default=None,
    help="Request PATH in-process, print it, exit (non-zero on failure).",
)
def serve(get_path: str | None, **values: Any) -> None:
    """Run the app (SQLite in the data folder unless --database-url says otherwise)."""
    settings = load_settings(values)
    from beerolympics.app import create_app

    app = create_app(settings)
    if get_path is not None:
        from litestar.testing import TestClient

        with TestClient(app) as client:
            response = client.get(get_path)
        click.echo(response.text)
        sys.exit(0 if response.status_code < 400 else 1)

    collect_garbage_for_a_server()
    open_files_for_a_server()
    click.echo(f"Beer Olympics on http://{settings.host}:{settings.port}/  (Ctrl-C stops)")
    draining_server(app, server_config(app, settings)).run()


@main.command()
@settings_options("all")
def worker(**values: Any) -> None:
    """Run background jobs (photos, clips…): the scaled shape runs any number of these."""
    settings = load_settings(values)
    from beerolympics.jobs.standalone import run_worker

    try:
        asyncio.run(run_worker(settings))
    except (StoreUnavailable, SettingsError) as exc:
        raise click.ClickException(str(exc)) from exc


def draining_server(app: Any, config: Any) -> Any:
    """The uvicorn server ``serve`` runs: see :class:`DrainingServer` inside."""
    import uvicorn

    class DrainingServer(uvicorn.Server):
        """uvicorn, telling live sockets "going away" (1001) before it shuts down.

        A stopping instance stops accepting connections, then closes every live socket with
        1001, so phones reconnect (to another instance behind the proxy) and resume with
        ``since``; only then does uvicorn close what is left.
        """

        async def shutdown(self, sockets: Any = None) -> None:
            for server in self.servers:
                server.close()
            hub = getattr(app.state, "hub", None)
            if hub is not None:
                await hub.drain()
            await super().shutdown(sockets)

    return DrainingServer(config)


def collect_garbage_for_a_server() -> None:
    """Fewer, not slower, cycle collections in a serving process.

    The projections are a large heap of long-lived objects that grows with every result, and
    with CPython's default thresholds a growing heap is scanned whole over and over: in
    ``bench.live_load``'s results phase that was 31 full collections in 8 s, up to 82 ms each
    (every request and frame waits meanwhile). Young objects are collected in bigger, rarer
    batches, and a full scan waits for many more of those (the third threshold): the same run
    then had no full collection and 11 of the middle generation, 67 ms in all.
    """
    gc.set_threshold(10_000, 20, 100)


#: Below this many open files, ``serve`` warns: an instance keeps a socket per live phone.
FEW_OPEN_FILES = 4096


def open_files_for_a_server() -> int:
    """Let this process keep as many files open as the system allows; return how many.

    Every live phone holds a socket. A shell or a service manager often starts a process with
    a soft limit of 1,024 open files (systemd's default for services), fewer than the phones
    one instance serves, under a hard limit far higher (524,288 under systemd); the sockets
    past the soft limit would be refused. The soft limit is raised to the hard one, as servers
    do (nginx's ``worker_rlimit_nofile``, in deploy/nginx.conf.template).
    """
    try:
        import resource
    except ImportError:  # Windows: no such limit
        return -1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # An unlimited hard limit (macOS) still stops at the kernel's own: try a million, then
    # macOS's usual 10,240.
    wanted = [hard] if hard != resource.RLIM_INFINITY else [1 << 20, 10_240]
    for limit in wanted:
        if soft != resource.RLIM_INFINITY and soft >= limit:
            break
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
        except (ValueError, OSError):
            continue
        break
    now = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    log = logging.getLogger("beerolympics.serve")
    if now != soft:
        log.info("open files: up to %d (the limit was %d)", now, soft)
    if now != resource.RLIM_INFINITY and now < FEW_OPEN_FILES:
        log.warning(
            "open files: up to %d, so about as many live phones; raise the hard limit"
            " (ulimit -Hn, systemd's LimitNOFILE) for more",
            now,
        )
    return now


def server_config(app: Any, settings: Settings, **overrides: Any) -> Any:
    """The uvicorn configuration ``serve`` runs with (tests run the same one)."""
    import uvicorn

    from beerolympics.web.wire import KeepServerSend, LiveWebSocketProtocol

    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "loop": "uvloop" if sys.platform != "win32" else "asyncio",
        "http": "httptools",
        # websockets-sansio, with frames compressed once for many sockets (web/wire.py), or
        # without compression: uvicorn's own would keep a compressor per socket.
        "ws": LiveWebSocketProtocol if settings.live_compression else "websockets-sansio",
        "ws_per_message_deflate": False,
        # A client that does not answer a ping within one heartbeat is dropped, so a dead
        # phone is gone within two heartbeats.
        "ws_ping_interval": settings.live_heartbeat,
        "ws_ping_timeout": settings.live_heartbeat,
        "ws_max_size": settings.live_max_message_bytes,
        # An idle keep-alive connection is closed after 5 s; deploy/nginx.conf.template keeps
        # its idle connections to an instance for less (4 s), or it could reuse one being closed.
        "timeout_keep_alive": 5,
        "log_config": None,
        # Requests are logged by the app (web/observe.py), with their route and request id.
        "access_log": False,
        "server_header": False,  # a few bytes on every answer, and nothing a client needs
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "lifespan": "on",
        "interface": "asgi3",  # KeepServerSend's __call__ is not a coroutine function
        **overrides,
    }
    return uvicorn.Config(KeepServerSend(app), **options)


async def _with_runtime(settings: Settings, work: Callable[[Runtime], Any]) -> Any:
    try:
        runtime = await Runtime.open(settings)
    except (StoreUnavailable, SettingsError) as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        return await work(runtime)
    finally:
        await runtime.close()


@main.command()
@settings_options("all")
def rebuild(**values: Any) -> None:
    """Replay every event into fresh projections; print how many and how long."""
    settings = load_settings(values)

    async def work(rt: Runtime) -> None:
        total = await rt.store.last_position()
        with click.progressbar(length=total, label="Replaying", file=sys.stderr) as bar:
            count, seconds = await rt.projector.replay(progress=bar.update)
        rate = count / seconds if seconds else 0.0
        click.echo(f"replayed {count} events in {seconds:.2f}s ({rate:,.0f} events/s)")
        click.echo(f"tournaments: {len(rt.catalog.tournaments)}  digest: {rt.catalog.digest()}")

    asyncio.run(_with_runtime(settings, work))


class _ExportedEvent(msgspec.Struct, frozen=True):
    position: int
    stream_id: str
    version: int
    scope: str
    type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime


@main.command(name="export")
@settings_options("all")
@click.option(
    "--output", "-o", type=click.File("wb"), default="-", help="File to write (default: stdout)."
)
def export_events(output: IO[bytes], **values: Any) -> None:
    """Write the event log as JSON lines."""
    settings = load_settings(values)

    async def work(rt: Runtime) -> int:
        encoder = msgspec.json.Encoder()
        count = 0
        position = 0
        while page := await rt.store.read_all(position, 5000):
            for event in page:
                output.write(encoder.encode(_ExportedEvent(**_fields(event))) + b"\n")
            count += len(page)
            position = page[-1].position
        return count

    count = asyncio.run(_with_runtime(settings, work))
    click.echo(f"exported {count} events", err=True)


def _fields(event: RecordedEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in _ExportedEvent.__struct_fields__}


def _read_lines(source: IO[bytes]) -> Iterator[RecordedEvent]:
    decoder = msgspec.json.Decoder(_ExportedEvent)
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            item = decoder.decode(line)
        except msgspec.DecodeError as exc:
            raise click.ClickException(f"line {number}: {exc}") from exc
        yield RecordedEvent(
            **{name: getattr(item, name) for name in _ExportedEvent.__struct_fields__}
        )


@main.command(name="import")
@settings_options("all")
@click.argument("source", type=click.File("rb"))
def import_events(source: IO[bytes], **values: Any) -> None:
    """Load a JSON-lines export into an EMPTY store, then rebuild and print the digest."""
    settings = load_settings(values)
    events = list(_read_lines(source))

    async def work(rt: Runtime) -> None:
        try:
            await rt.store.restore(events)
        except (StoreNotEmpty, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
        count, seconds = await rt.projector.replay()
        click.echo(f"imported {count} events in {seconds:.2f}s")
        click.echo(f"tournaments: {len(rt.catalog.tournaments)}  digest: {rt.catalog.digest()}")

    asyncio.run(_with_runtime(settings, work))


@main.command(name="settings")
@click.option("--markdown", is_flag=True, help="Print the table the README embeds.")
def show_settings(markdown: bool) -> None:
    """List every setting with its environment variable, flag and default."""
    if markdown:
        click.echo(markdown_table())
        return
    try:
        current = Settings.load()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    for setting in SETTINGS:
        click.echo(f"{setting.env}={getattr(current, setting.name)}")


if __name__ == "__main__":  # pragma: no cover
    main()
