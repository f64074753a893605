"""Domain events: what happened, in the past tense, and how they are stored.

An event is a frozen ``msgspec.Struct``; its stored ``type`` is the class name and its schema
version travels in the metadata (``"v"``). Never change what a stored event means: bump
``schema_version`` and register an upcaster that turns the old data into the new shape.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

import msgspec

from beerolympics.domain.formats.base import MatchSpec, Outcome
from beerolympics.domain.formats.plan import Plan
from beerolympics.domain.scoring import PointsTable
from beerolympics.ports.eventstore import NewEvent, RecordedEvent

Role = Literal["organizer", "referee", "member"]
HeatScoring = Literal["places", "lower", "higher"]
TournamentStatus = Literal["draft", "registration", "live", "finished"]


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """Base of all domain events."""

    schema_version: ClassVar[int] = 1


# -- tournament stream -----------------------------------------------------------------------


class TournamentCreated(Event, frozen=True):
    tournament_id: str
    name: str
    date: dt.date | None
    venue: str
    rules: str
    max_teams: int
    max_team_size: int
    join_code: str


class TournamentUpdated(Event, frozen=True):
    """Only the fields that changed are set."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    date: dt.date | msgspec.UnsetType | None = msgspec.UNSET
    venue: str | msgspec.UnsetType = msgspec.UNSET
    rules: str | msgspec.UnsetType = msgspec.UNSET
    max_teams: int | msgspec.UnsetType = msgspec.UNSET
    max_team_size: int | msgspec.UnsetType = msgspec.UNSET
    confirm_timeout_seconds: int | msgspec.UnsetType = msgspec.UNSET
    rest_seconds: int | msgspec.UnsetType = msgspec.UNSET
    tiebreaks: list[str] | msgspec.UnsetType = msgspec.UNSET


class RegistrationOpened(Event, frozen=True):
    pass


class RegistrationClosed(Event, frozen=True):
    pass


class TournamentStarted(Event, frozen=True):
    pass


class TournamentFinished(Event, frozen=True):
    pass


class JoinCodeChanged(Event, frozen=True):
    join_code: str
    previous: str


class OrganizerPasswordSet(Event, frozen=True):
    password_hash: str


class CredentialIssued(Event, frozen=True):
    credential_id: str
    role: Role
    team_id: str | None = None
    member_id: str | None = None
    label: str = ""


class CredentialRevoked(Event, frozen=True):
    credential_id: str
    reason: str = ""


class TeamRegistered(Event, frozen=True):
    team_id: str
    name: str
    colour: str
    flag: str
    motto: str
    invite_code: str


class TeamUpdated(Event, frozen=True):
    team_id: str
    name: str | msgspec.UnsetType = msgspec.UNSET
    colour: str | msgspec.UnsetType = msgspec.UNSET
    flag: str | msgspec.UnsetType = msgspec.UNSET
    motto: str | msgspec.UnsetType = msgspec.UNSET


class MemberJoined(Event, frozen=True):
    team_id: str
    member_id: str
    name: str


class MemberRemoved(Event, frozen=True):
    team_id: str
    member_id: str
    reason: str = ""


class CaptainAppointed(Event, frozen=True):
    team_id: str
    member_id: str
    previous: str | None = None


# -- games (tournament stream: configuration; game stream: plan) ---------------------------


class StationSpec(msgspec.Struct, frozen=True):
    """A place where a game is played: a table, a lane."""

    id: str
    name: str


class GameAdded(Event, frozen=True):
    game_id: str
    name: str
    rules: str
    format: str
    options: dict[str, Any]
    points: PointsTable
    stations: list[StationSpec]
    heat_scoring: HeatScoring = "places"
    lower_score_wins: bool = False
    auto_call: bool = True


class GameUpdated(Event, frozen=True):
    game_id: str
    name: str | msgspec.UnsetType = msgspec.UNSET
    rules: str | msgspec.UnsetType = msgspec.UNSET
    options: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET
    points: PointsTable | msgspec.UnsetType = msgspec.UNSET
    stations: list[StationSpec] | msgspec.UnsetType = msgspec.UNSET
    heat_scoring: HeatScoring | msgspec.UnsetType = msgspec.UNSET
    lower_score_wins: bool | msgspec.UnsetType = msgspec.UNSET
    auto_call: bool | msgspec.UnsetType = msgspec.UNSET


class GameRemoved(Event, frozen=True):
    game_id: str


class GameStarted(Event, frozen=True):
    """On the game's own stream: the plan every match of the game comes from."""

    game_id: str
    plan: Plan
    seeding: str


class RoundAdded(Event, frozen=True):
    """Matches a format pairs only once earlier results are in (Swiss, heats)."""

    game_id: str
    matches: list[MatchSpec]


class RoundsWithdrawn(Event, frozen=True):
    """Rounds ``from_round`` and later go, unplayed, to be paired again: an earlier result
    changed after they were paired (Swiss pairs on the scores)."""

    game_id: str
    from_round: int
    reason: str


class TeamWithdrawn(Event, frozen=True):
    """The team stops playing: its remaining matches are forfeited; its points stay."""

    team_id: str
    reason: str = ""


class TeamDisqualified(Event, frozen=True):
    """Like a withdrawal, and the team leaves the overall ranking."""

    team_id: str
    reason: str = ""


# -- bonus challenges (tournament stream) ---------------------------------------------------


class BonusChallengeAdded(Event, frozen=True):
    bonus_id: str
    name: str
    description: str
    points: float
    per: Literal["team", "individual"]
    max_completions: int | None
    needs_approval: bool


class BonusClaimed(Event, frozen=True):
    claim_id: str
    bonus_id: str
    team_id: str
    member_id: str | None
    note: str
    approved: bool


class BonusClaimApproved(Event, frozen=True):
    claim_id: str


class BonusClaimRejected(Event, frozen=True):
    claim_id: str
    reason: str = ""


# -- announcements (tournament stream) -------------------------------------------------------


class AnnouncementPosted(Event, frozen=True):
    """An organizer's message. ``audience`` all, teams (``team_ids``, or every team when
    empty) or captains."""

    announcement_id: str
    message: str
    priority: Literal["info", "important", "urgent"]
    audience: Literal["all", "teams", "captains"]
    team_ids: list[str] = msgspec.field(default_factory=list)


# -- matches (one stream per match or heat) --------------------------------------------------


class MatchCalled(Event, frozen=True):
    game_id: str
    match_id: str
    station_id: str
    teams: list[str]
    auto: bool = False


class MatchStarted(Event, frozen=True):
    game_id: str
    match_id: str
    teams: list[str]


class ResultSubmitted(Event, frozen=True):
    """A captain's report, waiting for the other side (or the deadline)."""

    game_id: str
    match_id: str
    outcome: Outcome
    team_id: str | None
    deadline: dt.datetime


class ResultConfirmed(Event, frozen=True):
    """The result counts. ``by`` is who made it count: the opponent, an official, the clock."""

    game_id: str
    match_id: str
    outcome: Outcome
    by: Literal["opponent", "official", "deadline"]
    team_id: str | None = None


class ResultDisputed(Event, frozen=True):
    game_id: str
    match_id: str
    team_id: str | None
    reason: str


class ResultOverridden(Event, frozen=True):
    """An official's result replaces whatever was there (dispute resolution, correction,
    forfeit); ``reason`` is the audit trail."""

    game_id: str
    match_id: str
    outcome: Outcome
    reason: str


class ReplayOrdered(Event, frozen=True):
    game_id: str
    match_id: str
    reason: str


class ResultReopened(Event, frozen=True):
    """A confirmed result no longer counts; the match is back in progress."""

    game_id: str
    match_id: str
    reason: str


class MatchReset(Event, frozen=True):
    """An earlier result changed who plays here before it was played: back to the queue."""

    game_id: str
    match_id: str
    reason: str


class MatchFlagged(Event, frozen=True):
    """An earlier result changed who should have played this already-played match."""

    game_id: str
    match_id: str
    reason: str


# -- background jobs (one stream per job: ``job:<job id>``) ---------------------------------


class JobQueued(Event, frozen=True):
    """Work to do in the background. ``subject`` names what it is about (a media id, say);
    ``max_attempts`` is how many runs may fail before it lands in the dead-letter list."""

    job_id: str
    kind: str
    payload: dict[str, Any]
    max_attempts: int
    subject: str = ""


class JobStarted(Event, frozen=True):
    """A worker took ``attempt`` (1, 2, …); it must finish before ``deadline``."""

    job_id: str
    attempt: int
    worker: str
    deadline: dt.datetime


class JobProgressed(Event, frozen=True):
    job_id: str
    attempt: int
    progress: float


class JobSucceeded(Event, frozen=True):
    job_id: str
    attempt: int
    seconds: float


class JobFailed(Event, frozen=True):
    """An attempt failed (an error, its time limit, its worker was lost). It runs again at
    ``retry_at``; without one the job is dead: it waits in the dead-letter list."""

    job_id: str
    attempt: int
    error: str
    retry_at: dt.datetime | None


class JobRetried(Event, frozen=True):
    """An organizer sent a dead job back to the queue with a fresh set of attempts."""

    job_id: str


# -- media (one stream per photo or clip: ``media:<tournament>:<media id>``) ---------------


class MediaVariant(msgspec.Struct, frozen=True):
    """A stored rendition: ``thumb``, ``medium``, ``large`` (WebP) or ``video`` (H.264 MP4)."""

    name: str
    key: str
    width: int
    height: int
    content_type: str
    size: int


class MediaUploaded(Event, frozen=True):
    """A photo or clip arrived; ``job_id`` processes it. ``subject`` is ``tournament``,
    ``team:<team id>`` or ``match:<match id>``; ``uploader`` the credential ("" for a
    spectator); ``original`` the key of the bytes as sent, kept private."""

    media_id: str
    subject: str
    uploader: str
    team_id: str | None
    original: str
    size: int
    sha256: str
    job_id: str


class MediaProcessed(Event, frozen=True):
    media_id: str
    kind: Literal["photo", "clip"]
    format: str
    width: int
    height: int
    variants: list[MediaVariant]
    placeholder: str
    #: The placeholder as a tiny PNG data URL.
    preview: str = ""
    frames: int = 1
    duration: float | None = None


class MediaRejected(Event, frozen=True):
    """The upload is not a photo or clip we show (``reason`` is a stable code)."""

    media_id: str
    reason: str
    message: str


class MediaHidden(Event, frozen=True):
    media_id: str
    reason: str = ""


class MediaShown(Event, frozen=True):
    media_id: str


class MediaDeleted(Event, frozen=True):
    media_id: str
    reason: str = ""


class GallerySettingsChanged(Event, frozen=True):
    """On ``gallery:<tournament>``: whether spectators (no credential) may upload."""

    spectator_uploads: bool


# -- notifications: a phone's push subscription (``push:<tournament>:<id>``) and an organizer's
#    webhook (``webhook:<tournament>:<id>``) -----------------------------------------------------


class PushSubscribed(Event, frozen=True):
    """A team member's phone asked for Web Push notifications: the push service's endpoint and
    the keys the browser's ``PushSubscription`` gave. Subscribing the same endpoint again
    replaces what was stored (keys, team, member)."""

    subscription_id: str
    team_id: str
    member_id: str | None
    endpoint: str
    p256dh: str
    auth: str


class PushUnsubscribed(Event, frozen=True):
    """No more pushes to this endpoint: the phone turned them off (``removed``), or the push
    service said it is gone (``expired``: 404 or 410)."""

    subscription_id: str
    reason: Literal["removed", "expired"] = "removed"


class WebhookRegistered(Event, frozen=True):
    """An organizer's receiver for some kinds of tournament events, with the ``whsec_`` secret
    its deliveries are signed with (Standard Webhooks)."""

    webhook_id: str
    url: str
    events: list[str]
    secret: str


class WebhookRemoved(Event, frozen=True):
    """An organizer removed the webhook, or its receiver answered 410 Gone."""

    webhook_id: str
    reason: str = ""


# -- highlights (one stream per tournament: ``highlights:<tournament>``) --------------------


class HighlightDetected(Event, frozen=True):
    """A moment worth telling, found in a confirmed result (see ``domain/highlights.py``):
    ``trigger`` is the log position of the confirmation it was found in, ``match_id`` that
    match within ``game_id``; ``detail`` holds the numbers the text was made from."""

    highlight_id: str
    kind: str
    text: str
    teams: list[str]
    game_id: str
    match_id: str
    trigger: int
    detail: dict[str, float | int | str] = msgspec.field(default_factory=dict)


class HighlightRetracted(Event, frozen=True):
    """The result a highlight was found in no longer counts (reopened, overridden, voided by
    an earlier correction, its game removed): the highlight is gone for everyone."""

    highlight_id: str
    reason: str


class HighlightHidden(Event, frozen=True):
    """An organizer hid the highlight: only organizers still see it."""

    highlight_id: str


class HighlightShown(Event, frozen=True):
    highlight_id: str


# -- reservations: streams whose only purpose is to make a value unique ----------------------


class JoinCodeReserved(Event, frozen=True):
    tournament_id: str


# -- codec -----------------------------------------------------------------------------------

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
#: ``(type, from_version) -> function`` turning stored data of that version into the next one.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def _all_subclasses(cls: type[Event]) -> list[type[Event]]:
    found: list[type[Event]] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


class EventCodec:
    """Turns events into :class:`NewEvent` and stored events back into typed events."""

    def __init__(self, types: Mapping[str, type[Event]] | None = None) -> None:
        self.types: dict[str, type[Event]] = dict(
            types or {cls.__name__: cls for cls in _all_subclasses(Event)}
        )

    def encode(self, event: Event, metadata: Mapping[str, Any] | None = None) -> NewEvent:
        meta = {"v": event.schema_version, **(metadata or {})}
        return NewEvent(type(event).__name__, msgspec.to_builtins(event), meta)

    def decode(self, recorded: RecordedEvent) -> Event:
        cls = self.types.get(recorded.type)
        if cls is None:
            raise ValueError(f"unknown event type {recorded.type!r} at {recorded.position}")
        data = recorded.data
        version = int(recorded.metadata.get("v", 1))
        while version < cls.schema_version:
            data = UPCASTERS[(recorded.type, version)](data)
            version += 1
        return msgspec.convert(data, cls, strict=False)
