"""Pusher protocol 7: the socket at ``/app/{key}?protocol=7`` and the channel auth endpoint
``POST /api/v1/tournaments/{id}/pusher/auth``. See docs/pusher.md and ``live/pusher.py``."""

from __future__ import annotations

import re
from typing import Annotated, Any, Final
from urllib.parse import parse_qs

import msgspec
from litestar import Request, Response, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.types import Receive, Scope, Send

from beerolympics.domain.errors import DomainError, Invalid, Unauthenticated
from beerolympics.domain.identity import SPECTATOR
from beerolympics.live import pusher
from beerolympics.live.admission import TooManyConnections
from beerolympics.live.channels import authorize
from beerolympics.live.hub import Hub
from beerolympics.live.pusher import Apps, PusherConnection
from beerolympics.runtime import Runtime
from beerolympics.web.api.live import attach, new_connection, serve
from beerolympics.web.api.tournaments import ERRORS, SECURITY, TournamentId
from beerolympics.web.consistency import catch_up_for
from beerolympics.web.context import actor, runtime
from beerolympics.web.http import json_response
from beerolympics.web.problems import status_of

#: The Pusher socket's path; the app key (a tournament's id) is the one group.
SOCKET_PATH: Final = re.compile(r"^/app/([^/]*)$")

#: Seconds of silence after which a Pusher client pings (it then expects a pong).
ACTIVITY_TIMEOUT_HEARTBEATS: Final = 2


class _Message(msgspec.Struct):
    event: str
    data: Any = None
    channel: str | None = None


class _Subscribe(msgspec.Struct):
    channel: str
    auth: str | None = None
    channel_data: str | None = None


class _Unsubscribe(msgspec.Struct):
    channel: str


_message = msgspec.json.Decoder(_Message).decode


async def pusher_socket(scope: Scope, receive: Receive, send: Send, key: str) -> None:
    """Pusher protocol 7 over a WebSocket, as plain ASGI (outside the framework for the same
    reason as :func:`~beerolympics.web.api.live.live_socket`)."""
    state = scope["app"].state
    rt: Runtime = state.runtime
    hub: Hub = state.hub
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept", "subprotocol": None, "headers": []})

    async def hang_up(code: int, reason: str) -> None:
        await send({"type": "websocket.close", "code": code, "reason": reason})

    async def refuse(code: int, message: str) -> None:
        text = pusher.error_text(code, message)
        await send({"type": "websocket.send", "bytes": None, "text": text})
        await hang_up(code, message)

    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    version = query.get("protocol", [""])[0]
    if not version:
        await refuse(pusher.NO_PROTOCOL, "no protocol version supplied: use ?protocol=7")
        return
    if not version.isdigit():
        await refuse(pusher.BAD_VERSION_FORMAT, "the protocol version is not a number")
        return
    if int(version) != pusher.PROTOCOL:
        await refuse(pusher.UNSUPPORTED_PROTOCOL, "unsupported protocol version: this is 7")
        return
    await catch_up_for(rt, scope["path"])
    if key not in rt.catalog.tournaments:
        await refuse(pusher.APP_NOT_FOUND, "no such app: the app key is a tournament's id")
        return
    client = scope.get("client")
    # Who subscribes is told by each signed subscription, not by the socket.
    conn = new_connection(PusherConnection, key, SPECTATOR, client[0] if client else None, hub)
    try:
        await hub.connect(conn)
    except TooManyConnections as refused:
        await refuse(pusher.OVER_QUOTA, refused.message)
        return
    attach(conn, scope, send, hang_up)
    established = {
        "socket_id": conn.socket_id,
        "activity_timeout": round(rt.settings.live_heartbeat * ACTIVITY_TIMEOUT_HEARTBEATS),
    }
    conn.enqueue(pusher.event_text("pusher:connection_established", established))
    apps: Apps = state.pusher_apps
    await serve(conn, hub, receive, lambda text: _handle(rt, hub, apps, conn, text))


async def _handle(rt: Runtime, hub: Hub, apps: Apps, conn: PusherConnection, text: str) -> None:
    try:
        message = _message(text)
        data = message.data
        if isinstance(data, str) and message.event.startswith("pusher:"):
            data = msgspec.json.decode(data)
    except msgspec.DecodeError:
        conn.enqueue(pusher.error_text(None, "not a Pusher message (JSON with an event)"))
        return
    event = message.event
    if event == "pusher:ping":
        conn.enqueue(pusher.event_text("pusher:pong", "{}"))
    elif event == "pusher:pong":
        pass
    elif event == "pusher:subscribe":
        try:
            subscribe = msgspec.convert(data, _Subscribe)
        except msgspec.ValidationError:
            conn.enqueue(pusher.error_text(None, "pusher:subscribe needs a channel"))
            return
        await _subscribe(rt, hub, apps, conn, subscribe)
    elif event == "pusher:unsubscribe":
        try:
            name = msgspec.convert(data, _Unsubscribe).channel
            channel = pusher.hub_channel(name)
        except (msgspec.ValidationError, DomainError):
            conn.enqueue(pusher.error_text(None, "pusher:unsubscribe needs a known channel"))
            return
        if channel.name in conn.subscriptions:
            hub.unsubscribe(conn, channel.name)
    elif event.startswith("client-"):
        conn.enqueue(
            pusher.error_text(
                None,
                "client events are not served: results and calls go through the API",
            )
        )
    else:
        conn.enqueue(pusher.error_text(None, f"unknown event {event[:60]!r}"))


async def _subscribe(
    rt: Runtime, hub: Hub, apps: Apps, conn: PusherConnection, request: _Subscribe
) -> None:
    name = request.channel

    def refuse(status: int, message: str) -> None:
        conn.enqueue(pusher.subscription_error(name, status, message))

    try:
        channel = pusher.hub_channel(name)
    except DomainError as exc:
        refuse(404, exc.message)
        return
    if pusher.needs_auth(name):
        signed = request.auth is not None and apps.verify(
            conn.tournament_id, conn.socket_id, name, request.channel_data, request.auth
        )
        if not signed:
            refuse(401, "invalid signature: ask the auth endpoint for this socket and channel")
            return
        data = pusher.read_channel_data(request.channel_data or "")
        who = None
        if data is not None:
            who = rt.catalog.get(conn.tournament_id).actor_for(data.credential)
        if who is None:
            refuse(401, "the credential that authorized this channel is not valid any more")
            return
        if conn.actor.authenticated and conn.actor.credential_id != who.credential_id:
            refuse(403, "this connection already follows channels for another sign-in")
            return
        if conn.actor != who:
            try:
                await hub.reidentify(conn, who)
            except TooManyConnections as exc:
                refuse(429, exc.message)
                return
    try:
        await hub.subscribe(conn, channel.name, None)
    except DomainError as exc:
        refuse(status_of(exc), exc.message)


class AuthRequest(msgspec.Struct, frozen=True):
    """What Pusher clients post to authorize a private or presence channel."""

    socket_id: Annotated[str, msgspec.Meta(max_length=48)]
    channel_name: Annotated[str, msgspec.Meta(max_length=200)]


class Authorization(msgspec.Struct, frozen=True):
    """``auth`` for ``pusher:subscribe``; ``channel_data`` says who subscribes."""

    auth: str
    channel_data: str


@post(
    "/tournaments/{tournament_id:str}/pusher/auth",
    summary="Authorize a Pusher channel",
    tags=["live"],
    security=SECURITY,
    status_code=200,
    responses={401: ERRORS[401], 403: ERRORS[403], 404: ERRORS[404], 422: ERRORS[422]},
)
async def pusher_auth(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    data: Annotated[AuthRequest, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Authorization]:
    """The standard channel authorization of Pusher clients (``channelAuthorization``):
    ``auth`` is ``key:HMAC-SHA256(secret, socket_id:channel:channel_data)``, signed for
    whoever the credential (Bearer header or cookie) speaks for, when the channel is one they
    may follow: their team's, the captains' (captains and officials), presence (any
    credential); organizers and referees every team's."""
    rt = runtime(request)
    state = rt.catalog.get(tournament_id)
    who = actor(request, tournament_id)
    if not who.in_tournament(tournament_id):
        raise Unauthenticated("sign in to follow private channels: a credential is required")
    if not pusher.valid_socket_id(data.socket_id):
        raise Invalid("socket_id is not a Pusher socket id (digits.digits)", code="bad_socket")
    if not pusher.needs_auth(data.channel_name):
        raise Invalid("public channels need no authorization", code="public_channel")
    authorize(pusher.hub_channel(data.channel_name), who, state)
    assert who.credential_id is not None  # in_tournament
    info: dict[str, Any] = {"role": who.role}
    user_id = who.credential_id
    if who.member_id is not None and who.team_id is not None:
        user_id = who.member_id
        info["name"] = state.teams[who.team_id].members[who.member_id].name
        info["team_id"] = who.team_id
    channel_data = msgspec.json.encode(
        pusher.ChannelData(user_id, info, who.credential_id)
    ).decode()
    apps: Apps = request.app.state.pusher_apps
    auth = apps.sign(tournament_id, data.socket_id, data.channel_name, channel_data)
    return json_response(Authorization(auth, channel_data))
