"""The web app: routes, OpenAPI, the one exception handler, wired to a :class:`Runtime`."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any, Final

import msgspec
from litestar import Litestar, Request, Response, Router, get
from litestar.config.compression import CompressionConfig
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router
from litestar.types import Receive, Scope, Send

from beerolympics import __version__
from beerolympics.demo import demo_links, load_demo
from beerolympics.live.backplane import Backplane
from beerolympics.live.highlights import HighlightRoutes
from beerolympics.live.hub import Hub
from beerolympics.live.media import MediaRoutes
from beerolympics.live.presence import Presence
from beerolympics.live.pusher import Apps as PusherApps
from beerolympics.runtime import Runtime
from beerolympics.services.conductor import Clock
from beerolympics.settings import Settings
from beerolympics.statsd_export import StatsdExport
from beerolympics.web import pages
from beerolympics.web.api import (
    announcements,
    board,
    bonuses,
    credentials,
    games,
    health,
    highlights,
    jobs,
    live,
    matches,
    media,
    metrics,
    push,
    pusher,
    teams,
    tournaments,
    webhooks,
)
from beerolympics.web.consistency import CatchUp
from beerolympics.web.fastpath import COMPRESS_FROM, FastPath, PublicReads
from beerolympics.web.http import API, Representations
from beerolympics.web.observe import Observer
from beerolympics.web.pages.dictionaries import Dictionaries, answer_with, answering
from beerolympics.web.problems import handle_exception
from beerolympics.web.ratelimit import Policies, RateLimit

_SWAGGER_ASSETS = "/static/swagger"

log = logging.getLogger("beerolympics")


#: HTML pages and API JSON of 1 KB or more go out compressed: brotli where the browser takes
#: it, else gzip. Not compressed here: Server-Sent Events (this compressor would hold events
#: back; the live endpoint gzips them itself, flushing each), static assets (stored gzipped
#: already), photos and clips. Public reads answered by the fast path carry compressed copies
#: made once per change (see ``web/fastpath.py``).
COMPRESSION: Final = CompressionConfig(
    backend="brotli",
    brotli_gzip_fallback=True,
    minimum_size=COMPRESS_FROM,
    exclude=[
        r"/live/events$",
        r"^/static/",
        r"^/sw\.js$",
        r"^/manifest\.webmanifest$",
        r"^/media/",
        r"/original$",
    ],
)


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Beer Olympics API",
        version=__version__,
        description=(
            "Run a multi-game party tournament from phones. Every failure is an RFC 9457"
            " problem document with a stable `code`. Reads carry ETags; writes accept"
            ' `Idempotency-Key`; `If-Match` takes a `"v<n>"` ETag.\n\n'
            "**Who you are.** A request acts as the credential in its `Authorization: Bearer`"
            " header, else as the one in the tournament's cookie (`bo_<tournament_id>`): a"
            " Bearer header always wins. Creating a tournament, registering or joining a team"
            " and signing in set that cookie, so a client that keeps cookies (a browser, an"
            " HTTP session object) acts as whoever the last of those made it, and checks meant"
            " for someone else are skipped: registering teams with the organizer's cookie"
            " needs no join code. Scripts should send the Bearer header, or drop cookies."
        ),
        # Litestar's docs router answers unknown paths below it with an HTML page, so it gets
        # a folder of its own; /api/v1/openapi.json is served by openapi_json below.
        path=f"{API}/docs",
        render_plugins=[
            JsonRenderPlugin(path="/openapi.json"),
            SwaggerRenderPlugin(
                path="/",
                favicon="",
                js_url=f"{_SWAGGER_ASSETS}/swagger-ui-bundle.js",
                css_url=f"{_SWAGGER_ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{_SWAGGER_ASSETS}/swagger-ui-standalone-preset.js",
            ),
        ],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer"),
                "cookie": SecurityScheme(
                    type="apiKey", name="bo_<tournament_id>", security_scheme_in="cookie"
                ),
            }
        ),
    )


@get(f"{API}/openapi.json", include_in_schema=False, media_type="application/vnd.oai.openapi+json")
async def openapi_json(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The OpenAPI document of this API."""
    cached: bytes | None = getattr(request.app.state, "openapi_json", None)
    if cached is None:
        cached = msgspec.json.encode(request.app.openapi_schema.to_schema())
        request.app.state.openapi_json = cached
    return Response(content=cached, media_type="application/vnd.oai.openapi+json")


class App(Litestar):
    """The Litestar app, which hands live WebSockets to :func:`~beerolympics.web.api.live.
    live_socket` itself, before routing (a socket lives for hours: nothing of the framework's
    per-request machinery should live with it).

    Not a coroutine function: it hands back the coroutine to await, so no frame of it stays
    alive either (servers must be told the interface is ASGI 3, as ``serve`` does).
    """

    def __call__(  # type: ignore[override]
        self, scope: Scope, receive: Receive, send: Send
    ) -> Awaitable[None]:
        if scope["type"] == ScopeType.WEBSOCKET and (
            found := live.SOCKET_PATH.match(scope["path"])
        ):
            scope["app"] = scope["litestar_app"] = self
            return live.live_socket(scope, receive, send, found.group(1))
        if scope["type"] == ScopeType.WEBSOCKET and (
            found := pusher.SOCKET_PATH.match(scope["path"])
        ):
            scope["app"] = scope["litestar_app"] = self
            return pusher.pusher_socket(scope, receive, send, found.group(1))
        if scope["type"] != ScopeType.HTTP:
            return super().__call__(scope, receive, send)
        app = super().__call__
        dictionaries: Dictionaries | None = self.state.get("dictionaries")
        if dictionaries is not None and (held := answering(dictionaries, scope)) is not None:
            # A page refreshing its regions that holds this page's dictionary: see there.
            app = functools.partial(answer_with, dictionaries, held, app)
        observer: Observer | None = self.state.get("observer")
        if observer is not None:
            return observer(app, scope, receive, send)
        return app(scope, receive, send)


def create_app(
    settings: Settings, runtime: Runtime | None = None, *, clock: Clock | None = None
) -> Litestar:
    """Build the app. Without ``runtime`` it opens one from ``settings`` at start-up."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        rt = runtime or await Runtime.open(settings, clock=clock)
        app.state.runtime = rt
        representations = app.state.representations = Representations()
        app.state.public_reads = PublicReads(rt.catalog.position_of)
        app.state.rate_limit_policies = Policies(rt)
        app.state.observer = Observer(rt.metrics, access_log=settings.access_log)
        app.state.dictionaries = Dictionaries()
        presence = Presence(rt.catalog)
        hub = app.state.hub = Hub(
            settings,
            rt.store,
            rt.codec,
            rt.catalog,
            rt.play,
            presence,
            representations,
            rt.throttle,
        )
        app.state.pusher_apps = PusherApps(settings.resolved_secret())
        hub.extra_routes.append(MediaRoutes(rt.media_states, media.url_for(rt)))
        hub.extra_routes.append(HighlightRoutes(rt.highlight_states, highlights.live_view(rt)))
        backplane = Backplane(rt.pubsub, rt.projector, presence, settings.live_heartbeat)
        collector = app.state.instance_collector = metrics.InstanceCollector(
            rt, hub, backplane, app.state.public_reads, representations
        )
        rt.metrics.register(collector)
        statsd = (
            StatsdExport(
                rt.metrics.registry,
                settings.statsd_address,
                prefix=settings.statsd_prefix,
                interval=settings.statsd_interval,
            )
            if settings.statsd_address
            else None
        )
        try:
            await rt.start()
            rt.projector.on_applied(hub.on_applied)
            hub.start(rt.projector.position)
            rt.runner.on_committed(backplane.committed)
            backplane.start()
            if statsd is not None:
                statsd.start()
            if settings.demo:
                await load_demo(rt)
                host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host  # noqa: S104
                for link in demo_links(rt, f"http://{host}:{settings.port}"):
                    log.info("try the demo as %s", link)
            yield
        finally:
            if statsd is not None:
                await statsd.stop()
            await backplane.stop()
            await hub.stop()
            if runtime is None:
                await rt.close()

    api = Router(
        path=API,
        route_handlers=[
            tournaments.router,
            tournaments.join_router,
            teams.teams_router,
            teams.members_router,
            credentials.router,
            games.router,
            matches.router,
            board.router,
            bonuses.router,
            announcements.router,
            jobs.router,
            media.router,
            media.gallery_router,
            live.live_events,
            pusher.pusher_auth,
            push.router,
            webhooks.router,
            highlights.router,
        ],
    )
    swagger_assets = create_static_files_router(
        path=_SWAGGER_ASSETS,
        directories=[Path(str(files("swagger_ui") / "static"))],
        include_in_schema=False,
        cache_control=None,
    )
    return App(
        route_handlers=[
            api,
            openapi_json,
            health.healthz,
            health.readyz,
            metrics.metrics,
            media.media_file,
            swagger_assets,
            pages.router,
        ],
        lifespan=[lifespan],
        openapi_config=_openapi(),
        exception_handlers={Exception: handle_exception},
        compression_config=COMPRESSION,
        # The cache answers first: a public read it holds costs less than counting it would.
        middleware=[FastPath, CatchUp, RateLimit],
        request_max_body_size=settings.max_body_bytes,
        logging_config=None,
        debug=False,
    )
