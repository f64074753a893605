"""The live hub of one instance: channels, batching, resume, presence and heartbeats.

It follows the projector: every page of events this instance applies (its own commands and,
through the backplane, other instances') is routed to the channels that have subscribers. The
first update on an idle channel goes out at once; updates within the next window go out
together. A frame is encoded once and the same text goes to every subscriber. Under load the
window of a channel stretches to a multiple of what its last fan-out cost, so fan-out never
takes more than a share of the event loop: commands keep being answered, and busier channels
simply get fuller frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from beerolympics.domain.errors import DomainError, Invalid, NotFound
from beerolympics.domain.events import Event, EventCodec
from beerolympics.live import deltas, routing
from beerolympics.live.admission import Admission, TooManyConnections
from beerolympics.live.channels import Channel, authorize, parse
from beerolympics.live.connection import (
    PROTOCOL,
    Connection,
    Frame,
    Subscription,
    briefly,
    code_build,
    json_text,
)
from beerolympics.live.presence import Presence
from beerolympics.ports.eventstore import EventStore, RecordedEvent
from beerolympics.projections.catalog import Catalog
from beerolympics.projections.play import Play
from beerolympics.projections.play_views import Views
from beerolympics.projections.views import tournament_view
from beerolympics.services.throttle import Throttle
from beerolympics.settings import Settings
from beerolympics.web.http import Representations

log = logging.getLogger("beerolympics.live")


#: The most of the event loop's time that fan-out of one channel may take under load.
FANOUT_SHARE = 0.5


def next_flush(now: float, last_flush: float, window: float, last_cost: float) -> float:
    """When a channel's next frame goes out: at once on an idle channel, else one window after
    the last frame — a window stretched so fan-out takes at most ``FANOUT_SHARE`` of the time."""
    return max(now, last_flush + max(window, last_cost / FANOUT_SHARE))


#: The state a channel sends as patches after the first time (see live/deltas.py): per channel
#: kind, the message kinds (each message carries its state under the same name).
DELTA_KINDS: dict[str, tuple[str, ...]] = {"tournament": (routing.LEADERBOARD, routing.STATIONS)}

_decode = msgspec.json.decode
_encode = msgspec.json.encode


@dataclass(slots=True)
class Base:
    """What a channel last sent of one state: the position it reflects (its label), the value
    as patched (normalized, see live/deltas.py), and its encodings: as the HTTP API has it
    (protocol 1) and normalized (protocol 2)."""

    at: int
    value: Any
    raw: msgspec.Raw
    wire: msgspec.Raw


@dataclass(slots=True, eq=False)
class ChannelState:
    tournament_id: str
    channel: Channel
    last_to: int
    subscribers: set[Connection] = field(default_factory=set)
    pending: dict[object, routing.Update] = field(default_factory=dict)
    scheduled: asyncio.TimerHandle | None = None
    last_flush: float = float("-inf")
    #: Seconds the last frame took to build and hand to every subscriber.
    last_cost: float = 0.0
    #: The states its frames patch, as the channel last sent them (see DELTA_KINDS).
    bases: dict[str, Base] = field(default_factory=dict)


class Hub:
    """Routes applied events to channel subscribers of this instance."""

    def __init__(
        self,
        settings: Settings,
        store: EventStore,
        codec: EventCodec,
        catalog: Catalog,
        play: Play,
        presence: Presence,
        representations: Representations,
        throttle: Throttle,
    ) -> None:
        self.settings = settings
        self.representations = representations
        self.store = store
        self.codec = codec
        self.catalog = catalog
        self.play = play
        self.presence = presence
        self.position = 0
        self.window = settings.live_window_ms / 1000
        self.channels: dict[tuple[str, str], ChannelState] = {}
        self.connections: set[Connection] = set()
        self.admission = Admission(settings, throttle)
        self._heartbeat: asyncio.Task[None] | None = None
        self.frames_sent = 0
        #: Frames handed to subscribers and the bytes sent for them (ASCII), for /metrics.
        self.deliveries = 0
        self.delivered_bytes = 0
        #: Connections that ended, by close code ("client" when the client left).
        self.disconnects: Counter[str] = Counter()
        #: More routing (features outside the tournament model): ``(event, position)`` to
        #: updates, whose messages are built from what the router itself holds.
        self.extra_routes: list[Callable[[Event, int], list[routing.Update]]] = []
        presence.on_change(self._presence_changed)

    def route(self, event: Event, position: int, views: Views) -> list[routing.Update]:
        found = routing.route(event, position, views)
        for extra in self.extra_routes:
            found.extend(extra(event, position))
        return found

    def start(self, position: int) -> None:
        self.position = position
        self._heartbeat = asyncio.create_task(self._beat(), name="live-heartbeat")
        self.admission.start()

    async def drain(self, within: float = 2.0) -> None:
        """Close every connection with 1001 ("going away") and wait, at most ``within``
        seconds, until the close frames are written."""
        closing = []
        for conn in list(self.connections):
            conn.close(1001, "the server is going away")
            if conn.closing is not None:
                closing.append(conn.closing)
        if closing:
            await asyncio.wait(closing, timeout=within)
        await self.admission.flush()

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        for conn in list(self.connections):
            conn.close(1001, "the server is going away")
        await self.admission.stop()

    # -- connections -------------------------------------------------------------------------

    async def connect(self, conn: Connection) -> None:
        """Admit a connection (``TooManyConnections`` past its budget, see
        :mod:`~beerolympics.live.admission`)."""
        self.catalog.get(conn.tournament_id)
        await self.admission.admit(conn.actor, conn.address, conn.id)
        self.connections.add(conn)
        self.presence.join(conn)

    def disconnect(self, conn: Connection) -> None:
        if conn not in self.connections:
            return
        self.connections.discard(conn)
        self.disconnects[str(conn.close_code) if conn.close_code else "client"] += 1
        self.admission.release(conn.id)
        for name in list(conn.subscriptions):
            self._leave(conn, name)
        self.presence.leave(conn)

    async def reidentify(self, conn: Connection, actor: Any) -> None:
        """The client authenticated: same connection, new role (and presence entry), counted
        against the credential from now on (``TooManyConnections`` when that is spent)."""
        await self.admission.move(conn.actor, actor, conn.address, conn.id)
        self.presence.leave(conn)
        conn.actor = actor
        self.presence.join(conn)

    # -- subscriptions -------------------------------------------------------------------------

    async def subscribe(
        self,
        conn: Connection,
        name: str,
        since: int | None,
        protocol: int | None = None,
        have: dict[str, int] | None = None,
        build: str | None = None,
    ) -> None:
        """Follow a channel; with ``since``, first get everything after it (or a snapshot).
        ``protocol`` 2 and later get the patched states as patches (older clients and Pusher's
        get them whole); ``have`` names the states the client keeps, with the labels of those
        it holds (-1: none), so a resume sends only what it lacks. States made by other code
        (``build``, not this instance's :func:`code_build`) count as none: the same label
        may stand for another value there."""
        if have is not None and build != code_build():
            have = dict.fromkeys(have, -1)
        channel = parse(name)
        state = self.catalog.get(conn.tournament_id)
        authorize(channel, conn.actor, state)
        if channel.name in conn.subscriptions:
            return
        if len(conn.subscriptions) >= self.settings.live_max_subscriptions:
            raise TooManyConnections(
                "too many channels on one connection", code="too_many_subscriptions"
            )
        if channel.kind == "match":
            self._check_match(conn.tournament_id, channel.arg)
        key = (conn.tournament_id, channel.name)
        ch = self.channels.get(key)
        if ch is None:
            ch = self.channels[key] = ChannelState(conn.tournament_id, channel, self.position)
            self._start_bases(ch)
        if protocol is not None:
            conn.protocol = min(max(protocol, 1), PROTOCOL)
        sub = conn.subscriptions[channel.name] = Subscription()
        if conn.protocol >= PROTOCOL and ch.bases:
            # Patches of the states it keeps; the others changed, it is told, and no more.
            sub.keeps = frozenset(have or ()) & ch.bases.keys()
        ch.subscribers.add(conn)
        start = self.position
        conn.send({"type": "subscribed", "channel": channel.name, "position": start})
        if conn.protocol >= PROTOCOL and ch.bases:
            await self._follow_chain(conn, ch, since, have)
        elif since is None or since < 0:
            self._send_snapshot(conn, channel, start, None)
            conn.caught_up(channel.name, start)
        elif since >= start:
            conn.caught_up(channel.name, since)
        else:
            await self._replay(conn, channel, since, start, None, set())
            conn.caught_up(channel.name, start)

    async def _follow_chain(
        self, conn: Connection, ch: ChannelState, since: int | None, have: dict[str, int] | None
    ) -> None:
        """Catch a client of protocol 2 up to where the channel's frames stand (their last
        ``to``) with the channel's patched states as its next frame patches them; frames then
        continue whole from there (a client drops by position what it already had)."""
        # As they are now: the channel's next frame goes on from these (a frame built while
        # the replay below waits for the log is held back until the replay is out).
        chain, bases = ch.last_to, dict(ch.bases)
        channel = ch.channel
        if since is None or since < 0:
            self._send_snapshot(conn, channel, chain, bases)
        else:
            keeps = have is not None
            if keeps:
                # A client that keeps the patched states gets those it does not hold, once.
                assert have is not None
                missing = {
                    kind: base
                    for kind, base in bases.items()
                    if kind in have and have[kind] != base.at
                }
                if missing:
                    conn.send(_state(channel.name, missing))
            if since < chain:
                kept = set(have or ())
                await self._replay(conn, channel, since, chain, bases, kept)
        conn.caught_up(channel.name, chain)

    def resync(self, conn: Connection, name: str, kinds: list[str] | None = None) -> None:
        """Send the states of ``name`` its frames patch (those of ``kinds``), as the channel
        last sent them: a client that could not apply a patch (it did not hold its base)
        starts over from them."""
        channel = parse(name)
        ch = self.channels.get((conn.tournament_id, channel.name))
        if ch is None or channel.name not in conn.subscriptions:
            raise Invalid(f"not subscribed to {name!r}", code="not_subscribed")
        wanted = {k: b for k, b in ch.bases.items() if kinds is None or k in kinds}
        conn.send(_state(channel.name, wanted))

    def _start_bases(self, ch: ChannelState) -> None:
        kinds = DELTA_KINDS.get(ch.channel.kind, ())
        if not kinds:
            return
        views = self._views(ch.tournament_id)
        builders = {routing.LEADERBOARD: views.leaderboard, routing.STATIONS: views.stations}
        for kind in kinds:
            raw = _as_raw(views.cached(kind, builders[kind]))
            ch.bases[kind] = _base(ch.last_to, raw)

    def unsubscribe(self, conn: Connection, name: str) -> None:
        self._leave(conn, parse(name).name)
        conn.send({"type": "unsubscribed", "channel": name})

    def _leave(self, conn: Connection, name: str) -> None:
        conn.subscriptions.pop(name, None)
        ch = self.channels.get((conn.tournament_id, name))
        if ch is not None:
            ch.subscribers.discard(conn)
            if not ch.subscribers:
                if ch.scheduled is not None:
                    ch.scheduled.cancel()
                del self.channels[(conn.tournament_id, name)]

    def _check_match(self, tournament_id: str, match: str) -> None:
        game_id, _, spec_id = match.partition(".")
        run = self.play.get(tournament_id).games.get(game_id)
        if run is None or spec_id not in run.specs:
            raise NotFound(f"no match {match!r}", code="unknown_channel")

    async def _replay(
        self,
        conn: Connection,
        channel: Channel,
        since: int,
        until: int,
        bases: dict[str, Base] | None,
        kept: set[str],
    ) -> None:
        """Send what ``channel`` said after ``since`` up to ``until``, from the event log;
        its patched states as ``bases`` have them (as they are now without ``bases``), but
        none of those the client keeps (``kept``: it was sent those it lacked)."""
        limit = self.settings.live_replay_limit
        events: list[RecordedEvent] = []
        after = since
        while after < until:
            page = await self.store.read_all(after, 1000, scope=conn.tournament_id)
            page = [e for e in page if e.position <= until]
            if not page:
                break
            events.extend(page)
            after = page[-1].position
            if len(events) > limit:
                self._send_snapshot(conn, channel, until, bases)
                return
        views = self._views(conn.tournament_id)
        updates: list[routing.Update] = []
        for recorded in events:
            event = self.codec.decode(recorded)
            updates.extend(
                u for u in self.route(event, recorded.position, views) if u.channel == channel.name
            )
        messages = _messages(_coalesce(updates), views)
        if bases:
            # Those it keeps it was sent as the channel stood when it subscribed (so the
            # channel's next frame applies to them); of the others, that they changed. Its
            # matches in brief, unless it keeps the station board.
            brief = routing.STATIONS not in kept
            messages = [
                {"p": m["p"], "kind": m["kind"], "at": bases[m["kind"]].at}
                if m["kind"] in bases
                else briefly(m)
                if brief
                else m
                for m in messages
                if m["kind"] not in kept
            ]
        conn.send(
            {
                "type": "frame",
                "channel": channel.name,
                "from": since,
                "to": until,
                "messages": messages,
            }
        )

    def _send_snapshot(
        self, conn: Connection, channel: Channel, position: int, bases: dict[str, Base] | None
    ) -> None:
        conn.send(
            {
                "type": "snapshot",
                "channel": channel.name,
                "position": position,
                "state": self._snapshot(conn, channel, bases),
            }
        )

    def _snapshot(
        self, conn: Connection, channel: Channel, bases: dict[str, Base] | None
    ) -> dict[str, Any]:
        """The channel's state; the patched states as ``bases`` have them (with their
        labels), or as they are now."""
        views = self._views(conn.tournament_id)
        if channel.kind == "tournament":
            state = {
                "tournament": views.cached("live-tournament", lambda: tournament_view(views.state)),
                "games": views.cached(
                    "live-games", lambda: [views.game(g) for g in views.state.games.values()]
                ),
            }
            if bases is None:
                state[routing.LEADERBOARD] = views.cached(routing.LEADERBOARD, views.leaderboard)
                state[routing.STATIONS] = views.cached(routing.STATIONS, views.stations)
                return state
            return {
                **state,
                **{kind: base.wire for kind, base in bases.items()},
                "bases": {kind: base.at for kind, base in bases.items()},
            }
        if channel.kind == "match":
            game_id, _, spec_id = channel.arg.partition(".")
            return {"match": views.match_detail(views.play.games[game_id], spec_id)}
        if channel.kind == "team":
            return {"team": views.team_play(channel.arg)}
        if channel.kind == "captains":
            return {"announcements": views.announcements(conn.actor)}
        return {"presence": self.presence.summary(conn.tournament_id)}

    def _views(self, tournament_id: str) -> Views:
        position = self.catalog.position_of(tournament_id)

        def cache(name: str, build: Any) -> msgspec.Raw:
            # Keyed like the HTTP reads: a frame and a GET share one encoding per position.
            key = (tournament_id, name)
            return msgspec.Raw(self.representations.get(key, position, build))

        return Views(self.catalog.get(tournament_id), self.play.get(tournament_id), cache)

    # -- following the projector -------------------------------------------------------------

    def on_applied(self, page: Sequence[tuple[Event, RecordedEvent]]) -> None:
        """Projector listener: route a page of applied events to subscribed channels."""
        if not page:
            return
        self.position = page[-1][1].position
        if not self.channels:
            return
        touched: set[ChannelState] = set()
        views: dict[str, Views] = {}
        for event, recorded in page:
            tid = recorded.scope
            if not tid or not any(k[0] == tid for k in self.channels):
                continue
            view = views.get(tid)
            if view is None:
                view = views[tid] = self._views(tid)
            for update in self.route(event, recorded.position, view):
                ch = self.channels.get((tid, update.channel))
                if ch is None:
                    continue
                key: object = update.key if update.key is not None else (update.p, len(ch.pending))
                ch.pending.pop(key, None)  # the newest goes last
                ch.pending[key] = update
                touched.add(ch)
        for ch in touched:
            self._schedule(ch)

    def _schedule(self, ch: ChannelState) -> None:
        if ch.scheduled is not None:
            return
        loop = asyncio.get_running_loop()
        at = next_flush(loop.time(), ch.last_flush, self.window, ch.last_cost)
        ch.scheduled = loop.call_at(at, self._flush, ch)

    def _flush(self, ch: ChannelState) -> None:
        ch.scheduled = None
        if not ch.subscribers or (not ch.pending and ch.channel.kind != "presence"):
            return
        started = time.perf_counter()
        views = self._views(ch.tournament_id)
        if ch.channel.kind == "presence":
            summary = self.presence.summary(ch.tournament_id)
            messages = [{"p": self.position, "kind": "presence", "presence": summary}]
        else:
            messages = _messages(list(ch.pending.values()), views)
        ch.pending = {}
        full = None
        unboard = None
        if ch.bases:
            board = ch.bases.get(routing.STATIONS)
            messages, full = _patch(ch, messages, self.position)
            small = _compact_matches(messages)
            if small is not messages:
                full, messages = full if full is not None else messages, small
            if board is not None and any(m["kind"] == routing.STATIONS for m in messages):
                # For clients that keep the station board, its matches said as its.
                referred = _refer_matches(messages, board, ch.bases[routing.STATIONS])
                pairs = enumerate(zip(messages, referred, strict=True))
                forms = {i: m for i, (m, r) in pairs if m is not r}
                if forms:
                    unboard, messages = (routing.STATIONS, forms), referred
        # Presence covers no events: its frames start and end where the channel stands.
        start = self.position if ch.channel.kind == "presence" else ch.last_to
        frame_dict = {
            "type": "frame",
            "channel": ch.channel.name,
            "from": start,
            "to": self.position,
            "messages": messages,
        }
        text = json_text(frame_dict)
        states = frozenset(m["kind"] for m in messages if "at" in m and m["kind"] in ch.bases)
        says_matches = bool(ch.bases) and any(m["kind"] == "match_updated" for m in messages)
        frame = Frame(
            ch.channel.name,
            start,
            self.position,
            text,
            messages,
            states=states,
            unless=unboard,
            briefs=routing.STATIONS if says_matches else None,
        )
        if full is not None:
            frame.full = Frame(
                ch.channel.name,
                start,
                self.position,
                json_text({**frame_dict, "messages": full}),
                full,
            )
        ch.last_to = self.position
        ch.last_flush = asyncio.get_running_loop().time()
        sent = 0
        for conn in list(ch.subscribers):
            sent += conn.deliver(frame)
        self.frames_sent += 1
        self.deliveries += len(ch.subscribers)
        self.delivered_bytes += sent
        ch.last_cost = time.perf_counter() - started

    def _presence_changed(self, tournament_id: str, local: bool) -> None:
        ch = self.channels.get((tournament_id, "presence"))
        if ch is not None:
            self._schedule(ch)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.settings.live_heartbeat)
            text = json_text({"type": "heartbeat", "position": self.position})
            for conn in list(self.connections):
                conn.beat(text)


def _base(at: int, raw: msgspec.Raw) -> Base:
    value = deltas.normalize(_decode(raw))
    return Base(at, value, raw, msgspec.Raw(_encode(value)))


def _as_raw(value: Any) -> msgspec.Raw:
    return value if isinstance(value, msgspec.Raw) else msgspec.Raw(_encode(value))


def _state(channel: str, bases: dict[str, Base]) -> dict[str, Any]:
    return {
        "type": "state",
        "channel": channel,
        "bases": {kind: base.at for kind, base in bases.items()},
        "state": {kind: base.wire for kind, base in bases.items()},
    }


def _patch(
    ch: ChannelState, messages: list[dict[str, Any]], at: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    """The frame's messages with the patched states as patches against the channel's bases,
    and (None when there were none) as they are whole, for clients that take them whole.
    A state that did not change is an empty patch; the bases of the others move on to
    ``at``."""
    if not any(m["kind"] in ch.bases for m in messages):
        return messages, None
    patched: list[dict[str, Any]] = []
    full: list[dict[str, Any]] = []
    for message in messages:
        kind = message["kind"]
        base = ch.bases.get(kind)
        if base is None:
            patched.append(message)
            full.append(message)
            continue
        raw = _as_raw(message[kind])
        value = deltas.normalize(_decode(raw))
        if value == base.value:
            # Still said (pages take it as a notice of what happened), as an empty patch.
            patched.append(
                {"p": message["p"], "kind": kind, "base": base.at, "at": base.at, "delta": {}}
            )
            full.append({"p": message["p"], "kind": kind, "at": base.at, kind: base.raw})
            continue
        new = Base(at, value, raw, msgspec.Raw(_encode(value)))
        delta = msgspec.Raw(_encode(deltas.diff(base.value, value)))
        if len(delta) < len(new.wire):
            patched.append(
                {"p": message["p"], "kind": kind, "base": base.at, "at": at, "delta": delta}
            )
        else:
            patched.append({"p": message["p"], "kind": kind, "at": at, kind: new.wire})
        full.append({"p": message["p"], "kind": kind, "at": at, kind: raw})
        ch.bases[kind] = new
    return patched, full


def _refer_matches(messages: list[dict[str, Any]], old: Base, new: Base) -> list[dict[str, Any]]:
    """The frame's ``match_updated`` messages with each match the station board holds said
    as the board's: as it is at the end of the frame (``new``: a match called is on the
    board), or as it was at its start (``old``) with a patch (a match played was on it until
    now). The others as they are."""
    out = []
    for message in messages:
        if message["kind"] != "match_updated":
            out.append(message)
            continue
        view = message["match"]
        key = view["id"]
        referred = message
        for base in (new, old):
            known = base.value.get(deltas.MATCHES, {}).get(key)
            if known is None:
                continue
            flat = deltas.refer_teams(view, base.value.get(deltas.TEAMS, {}))
            if known == flat:
                referred = {**message, "match": {deltas.REF: key}, "base": base.at}
                break
            if base is old:
                delta = _encode(deltas.diff(known, flat))
                if len(delta) < len(_encode(view)):
                    change = {
                        "match": {deltas.REF: key},
                        "base": base.at,
                        "delta": msgspec.Raw(delta),
                    }
                    referred = {**message, **change}
                break
        out.append(referred)
    return out


def _compact_matches(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages with each ``match_updated``'s match compact (see live/deltas.py), for
    clients of the protocol; ``messages`` itself when there are none."""
    if not any(m["kind"] == "match_updated" for m in messages):
        return messages
    return [
        {**m, "match": deltas.compact(_decode(_encode(m["match"])))}
        if m["kind"] == "match_updated"
        else m
        for m in messages
    ]


def _coalesce(updates: list[routing.Update]) -> list[routing.Update]:
    kept: dict[object, routing.Update] = {}
    for i, update in enumerate(updates):
        key: object = update.key if update.key is not None else i
        kept.pop(key, None)
        kept[key] = update
    return list(kept.values())


def _messages(updates: list[routing.Update], views: Views) -> list[dict[str, Any]]:
    messages = []
    for update in sorted(updates, key=lambda u: u.p):
        try:
            body = update.build(views)
        except (KeyError, DomainError):
            # What the update was about is gone (a removed game): nothing to say.
            continue
        messages.append({"p": update.p, "kind": update.kind, **body})
    return messages
