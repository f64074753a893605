"""The notifications projection: push subscriptions, webhooks, and the deliveries events owe.

Folded like every projection, after the catalog and play (it reads both as they are right
after each event). For an event that notifies someone it works out the deliveries due — one
``push.send`` job per subscribed phone, one ``webhook.deliver`` job per webhook that wants
the event's topic — with ids made from the event's position and the target, so whoever
queues them (any instance, once or twice) queues the same jobs. The last hour of them is
kept as :attr:`Notifications.recent`: after a restart, the reactor queues any of them that
the log does not show queued yet (the instance died between the event and its jobs).
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import msgspec

from beerolympics.domain import events as ev
from beerolympics.domain.notifications import digest_id
from beerolympics.notify.messages import PushNote, push_for, webhooks_for
from beerolympics.ports.eventstore import RecordedEvent
from beerolympics.projections.catalog import Catalog
from beerolympics.projections.play import Play

PUSH_SEND: Final = "push.send"
WEBHOOK_DELIVER: Final = "webhook.deliver"
#: Deliveries owed are remembered this long (by the log's clock) for a restart to pick up.
WINDOW: Final = dt.timedelta(hours=1)

_NOTIFYING = (
    ev.MatchCalled,
    ev.ResultSubmitted,
    ev.ResultDisputed,
    ev.AnnouncementPosted,
    ev.ResultConfirmed,
    ev.ResultOverridden,
    ev.TournamentFinished,
    ev.HighlightDetected,
)


@dataclass(slots=True)
class PushTarget:
    """A phone that gets a team's notifications."""

    id: str
    team_id: str
    member_id: str | None
    endpoint: str
    since: dt.datetime
    #: The device credential that subscribed: kicking that device ends its notifications.
    credential: str | None = None


@dataclass(slots=True)
class WebhookTarget:
    """An organizer's receiver."""

    id: str
    url: str
    events: tuple[str, ...]
    since: dt.datetime
    position: int


@dataclass(frozen=True, slots=True)
class Delivery:
    """A job an event owes: its id, kind, payload and subject (what the control room groups
    it by: the webhook, or the subscription)."""

    job_id: str
    kind: str
    payload: dict[str, Any]
    subject: str


@dataclass(frozen=True, slots=True)
class Owed:
    """The deliveries one event owes."""

    position: int
    at: dt.datetime
    tournament_id: str
    deliveries: tuple[Delivery, ...]


@dataclass(slots=True)
class TournamentTargets:
    subscriptions: dict[str, PushTarget] = field(default_factory=dict)
    webhooks: dict[str, WebhookTarget] = field(default_factory=dict)


class Notifications:
    """The :class:`~beerolympics.projections.projector.Projection` of subscriptions and
    webhooks. Comes after the catalog and play in the projector."""

    def __init__(self, catalog: Catalog, play: Play) -> None:
        self.catalog = catalog
        self.play = play
        self.tournaments: dict[str, TournamentTargets] = {}
        #: Deliveries owed by the events of the last :data:`WINDOW`, oldest first.
        self.recent: deque[Owed] = deque()

    def of(self, tournament_id: str) -> TournamentTargets:
        return self.tournaments.get(tournament_id) or TournamentTargets()

    def apply(self, event: ev.Event, recorded: RecordedEvent) -> None:
        tid = recorded.scope
        if isinstance(event, ev.PushSubscribed):
            self.tournaments.setdefault(tid, TournamentTargets()).subscriptions[
                event.subscription_id
            ] = PushTarget(
                event.subscription_id,
                event.team_id,
                event.member_id,
                event.endpoint,
                recorded.recorded_at,
                recorded.metadata.get("credential"),
            )
        elif isinstance(event, ev.PushUnsubscribed):
            self.of(tid).subscriptions.pop(event.subscription_id, None)
        elif isinstance(event, ev.CredentialRevoked):
            # A kicked phone is signed out at once: its team's news stops reaching it too.
            subscriptions = self.of(tid).subscriptions
            for gone in [
                s.id for s in subscriptions.values() if s.credential == event.credential_id
            ]:
                del subscriptions[gone]
        elif isinstance(event, ev.WebhookRegistered):
            self.tournaments.setdefault(tid, TournamentTargets()).webhooks[event.webhook_id] = (
                WebhookTarget(
                    event.webhook_id,
                    event.url,
                    tuple(event.events),
                    recorded.recorded_at,
                    recorded.position,
                )
            )
        elif isinstance(event, ev.WebhookRemoved):
            self.of(tid).webhooks.pop(event.webhook_id, None)
        elif isinstance(event, _NOTIFYING):
            targets = self.tournaments.get(tid)
            if targets is not None and (targets.subscriptions or targets.webhooks):
                deliveries = tuple(self._deliveries(event, recorded, targets))
                if deliveries:
                    self.recent.append(
                        Owed(recorded.position, recorded.recorded_at, tid, deliveries)
                    )
        while self.recent and self.recent[0].at < recorded.recorded_at - WINDOW:
            self.recent.popleft()

    def after(self, position: int) -> Iterator[Owed]:
        """What the events after ``position`` owe, oldest first."""
        start = len(self.recent)
        while start and self.recent[start - 1].position > position:
            start -= 1
        for index in range(start, len(self.recent)):
            yield self.recent[index]

    def _deliveries(
        self, event: ev.Event, recorded: RecordedEvent, targets: TournamentTargets
    ) -> Iterator[Delivery]:
        tid = recorded.scope
        state = self.catalog.tournaments.get(tid)
        if state is None:
            return
        play = self.play.tournaments.get(tid)
        at = recorded.recorded_at
        note = push_for(event, state, play, at) if targets.subscriptions else None
        if note is not None:
            for target in self._recipients(note, targets, tid):
                yield Delivery(
                    digest_id("jb", str(recorded.position), target.id),
                    PUSH_SEND,
                    {
                        "tournament": tid,
                        "subscription": target.id,
                        "message": msgspec.to_builtins(note.message),
                        "expires": note.expires.isoformat(),
                        "urgency": "high" if note.message.urgent else "normal",
                    },
                    target.id,
                )
        if not targets.webhooks:
            return
        for topic, data in webhooks_for(event, state, play, at):
            for hook in targets.webhooks.values():
                if topic in hook.events:
                    yield Delivery(
                        digest_id("jb", str(recorded.position), hook.id, topic),
                        WEBHOOK_DELIVER,
                        {
                            "tournament": tid,
                            "webhook": hook.id,
                            "type": topic,
                            "timestamp": at.isoformat(),
                            "data": data,
                        },
                        hook.id,
                    )

    def _recipients(
        self, note: PushNote, targets: TournamentTargets, tournament_id: str
    ) -> Iterator[PushTarget]:
        state = self.catalog.tournaments[tournament_id]
        for target in targets.subscriptions.values():
            team = state.teams.get(target.team_id)
            if team is None or (note.teams is not None and target.team_id not in note.teams):
                continue
            if target.member_id is not None and target.member_id not in team.members:
                continue  # left the team
            if note.captains_only and target.member_id != team.captain_id:
                continue
            yield target
