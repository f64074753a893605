"""The live channels as Pusher protocol 7 says them, for the clients people already have.

A Pusher socket is a :class:`~beerolympics.live.connection.Connection` of the hub like any
other: same admission, subscriptions, frames and presence. Only what goes over the wire is
said differently — each hub message becomes a Pusher event on the channel's Pusher name, with
the hub's JSON as the event's ``data`` (a JSON string, as the protocol has it). A channel
frame is wrapped once, for every Pusher socket that follows the channel.

The tournament is the Pusher *app*: its id is the app key, and its app secret is derived from
the server's secret, so every instance of one deployment agrees and nothing new is stored.
The secret never leaves the server: the auth endpoint signs, and the socket checks.
See docs/pusher.md.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from typing import Any, Final

import msgspec

from beerolympics.domain.errors import Invalid
from beerolympics.domain.identity import Actor
from beerolympics.live.channels import Channel, parse
from beerolympics.live.connection import (
    CLOSE_RATE_LIMITED,
    CLOSE_TOO_SLOW,
    Connection,
    Frame,
    json_text,
)
from beerolympics.live.presence import Member

PROTOCOL: Final = 7

# Error codes of the protocol. 4000-4099: do not reconnect as is; 4100-4199: reconnect after
# backing off; 4200-4299: reconnect at once. (4000 itself tells a client to switch to TLS.)
APP_NOT_FOUND: Final = 4001
OVER_QUOTA: Final = 4004
PATH_NOT_FOUND: Final = 4005
BAD_VERSION_FORMAT: Final = 4006
UNSUPPORTED_PROTOCOL: Final = 4007
NO_PROTOCOL: Final = 4008
UNAUTHORIZED: Final = 4009
OVER_CAPACITY: Final = 4100
RECONNECT: Final = 4200

#: The hub's close codes (docs/live-protocol.md) as Pusher ones.
_CLOSE_CODES: Final = {
    1001: RECONNECT,  # the server is going away: reconnect at once (to another instance)
    1011: RECONNECT,
    CLOSE_TOO_SLOW: OVER_CAPACITY,  # did not keep up: back off, then come back
    CLOSE_RATE_LIMITED: OVER_CAPACITY,  # too many messages: back off
    1009: UNAUTHORIZED,  # a message too big: a broken client, do not retry as is
}

_SOCKET_ID: Final = re.compile(r"^\d{1,20}\.\d{1,20}$")
_CHANNEL_CHARS: Final = re.compile(r"^[A-Za-z0-9_\-=@,.;]{1,164}$")

#: Hub channel kind → Pusher name (with the argument after it, for match and team).
_PUSHER_NAMES: Final = {
    "tournament": "tournament",
    "match": "match-",
    "team": "private-team-",
    "captains": "private-captains",
    "presence": "presence-tournament",
}


def pusher_name(channel: str) -> str:
    """The Pusher name of a hub channel (``team:tm_1`` → ``private-team-tm_1``)."""
    kind, _, arg = channel.partition(":")
    return _PUSHER_NAMES[kind] + arg


def hub_channel(name: str) -> Channel:
    """The hub channel a Pusher channel name stands for (``Invalid`` when none)."""
    if _CHANNEL_CHARS.match(name):
        for kind, prefix in _PUSHER_NAMES.items():
            if kind in ("match", "team"):
                if name.startswith(prefix) and len(name) > len(prefix):
                    return parse(f"{kind}:{name[len(prefix) :]}")
            elif name == prefix:
                return parse(kind)
    raise Invalid(f"unknown channel {name!r}", code="unknown_channel")


def needs_auth(name: str) -> bool:
    return name.startswith(("private-", "presence-"))


def valid_socket_id(socket_id: str) -> bool:
    return bool(_SOCKET_ID.match(socket_id))


def new_socket_id() -> str:
    return f"{secrets.randbelow(10**9)}.{secrets.randbelow(10**9)}"


class ChannelData(msgspec.Struct, frozen=True):
    """What the auth endpoint signs along with a channel: who subscribes (``user_id`` and
    ``user_info`` as presence channels show them), and the credential they spoke with."""

    user_id: str
    user_info: dict[str, Any]
    credential: str


_channel_data = msgspec.json.Decoder(ChannelData).decode


def read_channel_data(text: str) -> ChannelData | None:
    try:
        return _channel_data(text)
    except msgspec.DecodeError:
        return None


def sign(key: str, secret: bytes, socket_id: str, channel: str, channel_data: str | None) -> str:
    """``key:HMAC-SHA256(secret, socket_id:channel[:channel_data])``, the ``auth`` of a
    subscription as the protocol has it."""
    subject = f"{socket_id}:{channel}" + (f":{channel_data}" if channel_data else "")
    return f"{key}:{hmac.new(secret, subject.encode(), hashlib.sha256).hexdigest()}"


class Apps:
    """Signs and checks channel authorizations: one Pusher app per tournament."""

    def __init__(self, server_secret: str) -> None:
        self._server_secret = server_secret.encode()
        self.secret = functools.lru_cache(maxsize=1024)(self._secret)

    def _secret(self, key: str) -> bytes:
        message = f"beerolympics.pusher-app-secret:{key}".encode()
        return hmac.new(self._server_secret, message, hashlib.sha256).hexdigest().encode()

    def sign(self, key: str, socket_id: str, channel: str, channel_data: str | None) -> str:
        return sign(key, self.secret(key), socket_id, channel, channel_data)

    def verify(
        self, key: str, socket_id: str, channel: str, channel_data: str | None, auth: str
    ) -> bool:
        return hmac.compare_digest(self.sign(key, socket_id, channel, channel_data), auth)


def event_text(event: str, data: Any, channel: str | None = None) -> str:
    """A Pusher event; ``data`` is sent as a JSON string unless it is one already."""
    body: dict[str, Any] = {"event": event}
    if channel is not None:
        body["channel"] = channel
    body["data"] = data if isinstance(data, str) else json_text(data)
    return json_text(body)


def error_text(code: int | None, message: str) -> str:
    """``pusher:error``, whose ``data`` is an object (not a string), as the protocol has it."""
    return json_text({"event": "pusher:error", "data": {"code": code, "message": message}})


def subscription_error(channel: str, status: int, message: str) -> str:
    data = {"type": "AuthError", "error": message, "status": status}
    return json_text({"event": "pusher:subscription_error", "channel": channel, "data": data})


def _wrap(frame: Frame) -> Frame:
    """A hub frame as a Pusher event: the event is the frame's type, the data its JSON."""
    text = event_text("frame", frame.text, pusher_name(frame.channel))
    return Frame(frame.channel, frame.start, frame.end, text, frame.messages)


def _members(players: list[Member]) -> dict[str, dict[str, str]]:
    return {m.member_id: {"name": m.name, "team_id": m.team_id, "role": m.role} for m in players}


class PusherConnection(Connection):
    """A hub connection that speaks Pusher protocol 7 (see the module docstring)."""

    __slots__ = ("members", "socket_id")

    def __init__(
        self,
        tournament_id: str,
        actor: Actor,
        address: str,
        *,
        buffer: int,
        per_minute: int,
    ) -> None:
        super().__init__(tournament_id, actor, address, buffer=buffer, per_minute=per_minute)
        self.socket_id = new_socket_id()
        #: The presence channel's members as this client knows them (None: not subscribed).
        self.members: dict[str, dict[str, str]] | None = None

    def send(self, message: dict[str, Any]) -> None:
        """A hub message for this client only, as Pusher events (nothing for acks Pusher
        has no event for)."""
        kind = message["type"]
        channel = message.get("channel")
        if channel is None:
            return
        if kind == "unsubscribed":
            if channel == "presence":
                self.members = None
            return
        name = pusher_name(channel)
        if kind == "subscribed":
            if channel != "presence":  # presence succeeds with its members, on its snapshot
                self.enqueue(event_text("pusher_internal:subscription_succeeded", "{}", name))
            return
        if kind == "snapshot" and channel == "presence":
            self.members = _members(message["state"]["presence"].players)
            presence = {
                "ids": list(self.members),
                "hash": self.members,
                "count": len(self.members),
            }
            self.enqueue(
                event_text("pusher_internal:subscription_succeeded", {"presence": presence}, name)
            )
        self.enqueue(event_text(kind, message, name))

    def enqueue(self, text: str, frame: Frame | None = None) -> None:
        if frame is None:
            super().enqueue(text)
            return
        if frame.channel == "presence" and self.members is not None:
            self._members_changed(frame)
        if frame.pusher is None:
            frame.pusher = _wrap(frame)
        super().enqueue(frame.pusher.text, frame.pusher)

    def _members_changed(self, frame: Frame) -> None:
        known = self.members
        assert known is not None
        now = _members(frame.messages[-1]["presence"].players)
        name = pusher_name("presence")
        for user_id in known.keys() - now.keys():
            self.enqueue(event_text("pusher_internal:member_removed", {"user_id": user_id}, name))
        for user_id, info in now.items():
            if known.get(user_id) != info:
                data = {"user_id": user_id, "user_info": info}
                self.enqueue(event_text("pusher_internal:member_added", data, name))
        self.members = now

    def beat(self, text: str) -> None:
        """Pusher clients ping when they have heard nothing for ``activity_timeout``."""

    def close(self, code: int, reason: str) -> None:
        """Close with the Pusher code for ``code``, said first as ``pusher:error``."""
        if self.close_code is None:
            pusher_code = _CLOSE_CODES.get(code, code)
            # (A client too slow to keep up has no room left for one more message.)
            if pusher_code >= 4000 and code != CLOSE_TOO_SLOW:
                self.enqueue(error_text(pusher_code, reason))
            code = pusher_code
        super().close(code, reason)
