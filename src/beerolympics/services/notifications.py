"""Use cases of notifications: phones subscribe to their team's pushes; organizers manage
webhooks and read their delivery log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import msgspec

from beerolympics.domain import notifications as rules
from beerolympics.domain.codes import new_id
from beerolympics.domain.errors import Forbidden, NotFound
from beerolympics.domain.events import (
    Event,
    PushSubscribed,
    PushUnsubscribed,
    WebhookRegistered,
    WebhookRemoved,
)
from beerolympics.domain.identity import Actor, require_any, require_organizer
from beerolympics.domain.jobs import JobState
from beerolympics.ports.eventstore import ANY_VERSION, NO_STREAM
from beerolympics.projections.catalog import Catalog
from beerolympics.projections.jobs import Jobs
from beerolympics.projections.notifications import (
    WEBHOOK_DELIVER,
    Notifications,
    PushTarget,
    WebhookTarget,
)
from beerolympics.services.runner import CommandRunner, Decision
from beerolympics.services.tournaments import metadata_for


class Stored(msgspec.Struct, frozen=True):
    id: str


class NotificationService:
    """Push subscriptions and webhooks of tournaments."""

    def __init__(
        self,
        runner: CommandRunner,
        catalog: Catalog,
        notifications: Notifications,
        job_states: Jobs,
        *,
        allow_private: bool,
    ) -> None:
        self.runner = runner
        self.catalog = catalog
        self.notifications = notifications
        self.job_states = job_states
        #: ``notify_allow_private``: receivers on the LAN, push endpoints over plain http.
        self.allow_private = allow_private

    async def _append(
        self, tournament_id: str, stream: str, events: Sequence[Event], expected: int, actor: Actor
    ) -> None:
        await self.runner.run(
            decide=lambda: Decision(Stored(stream), [(stream, events, expected)], tournament_id),
            outcome_type=Stored,
            lock=stream,
            metadata=metadata_for(actor),
        )

    # -- push ------------------------------------------------------------------------------

    async def subscribe(self, tournament_id: str, actor: Actor, cmd: rules.Subscribe) -> PushTarget:
        """This phone gets its team's notifications (members only). The same endpoint again
        replaces what was stored for it."""
        state = self.catalog.get(tournament_id)
        require_any(actor, tournament_id, "captain", "player")
        if actor.team_id is None or actor.team_id not in state.teams:
            raise Forbidden("only a team's members subscribe to its notifications")
        rules.check_subscription(cmd, allow_plain_http=self.allow_private)
        sid = rules.subscription_id(tournament_id, cmd.endpoint)
        targets = self.notifications.of(tournament_id).subscriptions
        existing = targets.get(sid)
        if existing is None or existing.team_id != actor.team_id:
            rules.check_subscription_count(
                sum(1 for t in targets.values() if t.team_id == actor.team_id)
            )
        event = PushSubscribed(
            subscription_id=sid,
            team_id=actor.team_id,
            member_id=actor.member_id,
            endpoint=cmd.endpoint,
            p256dh=cmd.keys.p256dh,
            auth=cmd.keys.auth,
        )
        stream = rules.push_stream(tournament_id, sid)
        await self._append(tournament_id, stream, [event], ANY_VERSION, actor)
        return self.notifications.of(tournament_id).subscriptions[sid]

    def subscription(self, tournament_id: str, actor: Actor, subscription_id: str) -> PushTarget:
        """A subscription its team's members and the organizers may see and remove."""
        self.catalog.get(tournament_id)
        found = self.notifications.of(tournament_id).subscriptions.get(subscription_id)
        if actor.role != "organizer" or not actor.in_tournament(tournament_id):
            require_any(actor, tournament_id, "captain", "player")
            if found is not None and found.team_id != actor.team_id:
                found = None  # another team's: not yours to know about
        if found is None:
            raise NotFound(f"no subscription {subscription_id!r}", code="subscription_not_found")
        return found

    async def unsubscribe(self, tournament_id: str, actor: Actor, subscription_id: str) -> None:
        found = self.subscription(tournament_id, actor, subscription_id)
        stream = rules.push_stream(tournament_id, found.id)
        event = PushUnsubscribed(subscription_id=found.id, reason="removed")
        await self._append(tournament_id, stream, [event], ANY_VERSION, actor)

    def subscriptions(self, tournament_id: str, actor: Actor) -> list[PushTarget]:
        """Organizers: every phone; members: their team's."""
        self.catalog.get(tournament_id)
        found = list(self.notifications.of(tournament_id).subscriptions.values())
        if actor.role == "organizer" and actor.in_tournament(tournament_id):
            return found
        require_any(actor, tournament_id, "captain", "player")
        return [t for t in found if t.team_id == actor.team_id]

    # -- webhooks --------------------------------------------------------------------------

    async def register_webhook(
        self, tournament_id: str, actor: Actor, cmd: rules.RegisterWebhook
    ) -> tuple[WebhookTarget, str]:
        """A new receiver (organizers only); the secret is returned this once."""
        self.catalog.get(tournament_id)
        require_organizer(actor, tournament_id)
        rules.check_url(cmd.url)
        rules.check_webhook_address(cmd.url, allow_private=self.allow_private)
        rules.check_webhook_count(len(self.notifications.of(tournament_id).webhooks))
        webhook_id, secret = new_id("wh", 10), rules.new_webhook_secret()
        topics: list[str] = [t for t in rules.TOPICS if t in cmd.events]
        event = WebhookRegistered(webhook_id=webhook_id, url=cmd.url, events=topics, secret=secret)
        stream = rules.webhook_stream(tournament_id, webhook_id)
        await self._append(tournament_id, stream, [event], NO_STREAM, actor)
        return self.notifications.of(tournament_id).webhooks[webhook_id], secret

    def webhook(self, tournament_id: str, actor: Actor, webhook_id: str) -> WebhookTarget:
        self.catalog.get(tournament_id)
        require_organizer(actor, tournament_id)
        found = self.notifications.of(tournament_id).webhooks.get(webhook_id)
        if found is None:
            raise NotFound(f"no webhook {webhook_id!r}", code="webhook_not_found")
        return found

    async def remove_webhook(self, tournament_id: str, actor: Actor, webhook_id: str) -> None:
        found = self.webhook(tournament_id, actor, webhook_id)
        stream = rules.webhook_stream(tournament_id, found.id)
        await self._append(
            tournament_id, stream, [WebhookRemoved(webhook_id=found.id)], ANY_VERSION, actor
        )

    def webhooks(self, tournament_id: str, actor: Actor) -> list[WebhookTarget]:
        """Oldest first (organizers only)."""
        self.catalog.get(tournament_id)
        require_organizer(actor, tournament_id)
        hooks = self.notifications.of(tournament_id).webhooks.values()
        return sorted(hooks, key=lambda h: h.position)

    def deliveries(self, tournament_id: str, webhook_id: str | None = None) -> list[JobState]:
        """Deliveries of the tournament's webhooks (of one), newest first; callers check who
        may see them (through :meth:`webhook` or :meth:`webhooks`)."""
        return [
            j
            for j in self.job_states.of(tournament_id)
            if j.kind == WEBHOOK_DELIVER and (webhook_id is None or j.subject == webhook_id)
        ]


def next_retry(deliveries: Sequence[JobState]) -> dt.datetime | None:
    """When the earliest delivery waiting for a retry goes again."""
    waiting = [j.retry_at for j in deliveries if j.status == "retrying" and j.retry_at]
    return min(waiting, default=None)
