"""Games and their consequences: configuration, starting, withdrawals, bonus challenges, and
what a changed result does to the matches that depended on it. Pure decisions."""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from beerolympics.domain import events as ev
from beerolympics.domain import formats
from beerolympics.domain import matches as lifecycle
from beerolympics.domain.codes import clean_line
from beerolympics.domain.commands import (
    AddBonus,
    AddGame,
    ClaimBonus,
    StartGame,
    UpdateGame,
    WithdrawTeam,
)
from beerolympics.domain.errors import Conflict, Forbidden, Invalid, NotFound
from beerolympics.domain.formats.base import Outcome
from beerolympics.domain.identity import (
    Actor,
    ActorRole,
    require_any,
    require_organizer,
    require_team_lead,
)
from beerolympics.domain.scoring import PointsTable, check_points_table
from beerolympics.domain.tournament import TournamentState, require_not_finished

if TYPE_CHECKING:  # the projection types are only annotations here
    from beerolympics.projections.play import GameRun, TournamentPlay

OFFICIALS: tuple[ActorRole, ...] = ("organizer", "referee")


def stream_id(tournament_id: str, game_id: str) -> str:
    """A game's stream: its plan and the rounds added to it."""
    return f"game:{tournament_id}:{game_id}"


def _points(placement: Sequence[float], beyond: float, participation: float) -> PointsTable:
    return check_points_table(
        PointsTable(placement=tuple(placement), beyond=beyond, participation=participation)
    )


def _stations(names: Sequence[str], ids: Sequence[str]) -> list[ev.StationSpec]:
    cleaned = [clean_line(n) for n in names]
    if len({n.casefold() for n in cleaned}) != len(cleaned):
        raise Invalid("station names must differ", code="duplicate_station")
    return [ev.StationSpec(id=i, name=n) for i, n in zip(ids, cleaned, strict=True)]


def add_game(
    state: TournamentState, actor: Actor, cmd: AddGame, *, game_id: str, station_ids: Sequence[str]
) -> list[ev.Event]:
    require_organizer(actor, state.id)
    require_not_finished(state)
    _require_free_name(state, cmd.name)
    options = formats.get_format(cmd.format).parse_options(cmd.options)
    return [
        ev.GameAdded(
            game_id=game_id,
            name=clean_line(cmd.name),
            rules=cmd.rules.strip(),
            format=cmd.format,
            options=_plain(options),
            points=_points(cmd.placement_points, cmd.points_beyond, cmd.participation_points),
            stations=_stations(cmd.stations, station_ids),
            heat_scoring=cmd.heat_scoring,
            lower_score_wins=cmd.lower_score_wins,
            auto_call=cmd.auto_call,
        )
    ]


def _require_free_name(state: TournamentState, name: str, *, but: str | None = None) -> None:
    """Game names are unique in a tournament, ignoring case: people tell games by name."""
    wanted = clean_line(name).casefold()
    if any(g.name.casefold() == wanted and g.id != but for g in state.games.values()):
        raise Conflict(f"a game called {name!r} already exists", code="game_name_taken")


def _plain(options: Any) -> dict[str, Any]:
    value = msgspec.to_builtins(options)
    value.pop("format", None)
    return dict(value)


def update_game(
    state: TournamentState,
    actor: Actor,
    game_id: str,
    cmd: UpdateGame,
    *,
    started: bool,
    new_station_id: Callable[[], str],
) -> list[ev.Event]:
    """Change a game. Its format options are fixed once it started; stations can change."""
    require_organizer(actor, state.id)
    game = state.game(game_id)
    changes: dict[str, Any] = {}
    if cmd.name is not msgspec.UNSET and clean_line(cmd.name) != game.name:
        _require_free_name(state, cmd.name, but=game_id)
        changes["name"] = clean_line(cmd.name)
    if cmd.rules is not msgspec.UNSET and cmd.rules.strip() != game.rules:
        changes["rules"] = cmd.rules.strip()
    if cmd.options is not msgspec.UNSET:
        if started:
            raise Conflict("the format is fixed once the game started", code="game_started")
        options = _plain(formats.get_format(game.format).parse_options(cmd.options))
        if options != game.options:
            changes["options"] = options
    points_changed = any(
        getattr(cmd, name) is not msgspec.UNSET
        for name in ("placement_points", "points_beyond", "participation_points")
    )
    if points_changed:
        table = _points(
            game.points.placement
            if cmd.placement_points is msgspec.UNSET
            else cmd.placement_points,
            game.points.beyond if cmd.points_beyond is msgspec.UNSET else cmd.points_beyond,
            game.points.participation
            if cmd.participation_points is msgspec.UNSET
            else cmd.participation_points,
        )
        if table != game.points:
            changes["points"] = table
    if cmd.stations is not msgspec.UNSET:
        by_name = {s.name.casefold(): s.id for s in game.stations}
        ids = [by_name.get(clean_line(n).casefold()) or new_station_id() for n in cmd.stations]
        stations = _stations(cmd.stations, ids)
        if stations != game.stations:
            changes["stations"] = stations
    for name in ("heat_scoring", "lower_score_wins", "auto_call"):
        value = getattr(cmd, name)
        if value is not msgspec.UNSET and value != getattr(game, name):
            changes[name] = value
    return [ev.GameUpdated(game_id=game_id, **changes)] if changes else []


def remove_game(
    state: TournamentState, actor: Actor, game_id: str, *, started: bool
) -> list[ev.Event]:
    require_organizer(actor, state.id)
    state.game(game_id)
    if started:
        raise Conflict("a game that started cannot be removed", code="game_started")
    return [ev.GameRemoved(game_id=game_id)]


def start_game(
    state: TournamentState,
    actor: Actor,
    game_id: str,
    cmd: StartGame,
    *,
    started: bool,
    rng: random.Random,
    ratings: Mapping[str, float] | None = None,
) -> list[ev.Event]:
    """Build the game's plan from its format, options and the teams in seed order
    (``ratings``: each team's rating, for seeding by rating)."""
    require_organizer(actor, state.id)
    game = state.game(game_id)
    require_not_finished(state)
    if started:
        raise Conflict(
            "this game has started already: its teams and seeding are fixed",
            code="game_started",
        )
    active = [t.id for t in state.teams.values() if t.status == "active"]
    if cmd.teams is None:
        if cmd.seeding == "manual":
            raise Invalid("manual seeding needs the teams in seed order", code="teams_required")
        teams = active
    else:
        unknown = [t for t in cmd.teams if t not in state.teams]
        if unknown:
            raise NotFound(f"no team {unknown[0]!r} in this tournament", code="team_not_found")
        inactive = [t for t in cmd.teams if t not in active]
        if inactive:
            raise Conflict(f"team {inactive[0]!r} no longer plays", code="team_not_active")
        if len(set(cmd.teams)) != len(cmd.teams):
            raise Invalid("each team once", code="duplicate_team")
        teams = list(cmd.teams)
    if cmd.seeding == "random":
        rng.shuffle(teams)
    elif cmd.seeding == "rating":
        # Best first; teams without a result yet (rating 0) keep their order after them.
        rated = ratings or {}
        teams.sort(key=lambda team: -rated.get(team, 0.0))
    options = dict(game.options)
    if "seeding" in formats.get_format(game.format).parse_options(options).__struct_fields__:
        # The order passed in is the seeding, whichever way it was made.
        options["seeding"] = "manual" if cmd.seeding == "manual" else "natural"
    plan = formats.build(game.format, teams, options, rng)
    return [ev.GameStarted(game_id=game_id, plan=plan, seeding=cmd.seeding)]


def withdraw_team(
    state: TournamentState, actor: Actor, team_id: str, cmd: WithdrawTeam
) -> list[ev.Event]:
    """A team stops playing (its captain or an organizer); only organizers disqualify."""
    team = state.team(team_id)
    if cmd.disqualify:
        require_organizer(actor, state.id)
    else:
        require_team_lead(actor, state.id, team_id)
    if team.status == "disqualified" or (team.status == "withdrawn" and not cmd.disqualify):
        return []
    if cmd.disqualify:
        return [ev.TeamDisqualified(team_id=team_id, reason=clean_line(cmd.reason))]
    return [ev.TeamWithdrawn(team_id=team_id, reason=clean_line(cmd.reason))]


def add_bonus(
    state: TournamentState, actor: Actor, cmd: AddBonus, *, bonus_id: str
) -> list[ev.Event]:
    require_organizer(actor, state.id)
    return [
        ev.BonusChallengeAdded(
            bonus_id=bonus_id,
            name=clean_line(cmd.name),
            description=clean_line(cmd.description),
            points=cmd.points,
            per=cmd.per,
            max_completions=cmd.max_completions,
            needs_approval=cmd.needs_approval,
        )
    ]


def claim_bonus(
    state: TournamentState, actor: Actor, bonus_id: str, cmd: ClaimBonus, *, claim_id: str
) -> list[ev.Event]:
    """A team (or one of its members) completed a challenge. Organizers may claim for anyone."""
    bonus = state.bonuses.get(bonus_id)
    if bonus is None:
        raise NotFound("no such bonus challenge", code="bonus_not_found")
    require_any(actor, state.id, "organizer", "referee", "captain", "player")
    official = actor.role in OFFICIALS
    team_id = cmd.team_id if official else actor.team_id
    if team_id is None or (not official and cmd.team_id not in (None, actor.team_id)):
        raise Forbidden("claim for your own team", code="not_your_team")
    team = state.team(team_id)
    member_id = cmd.member_id if official or cmd.member_id else actor.member_id
    if bonus.per == "individual":
        if member_id is None or member_id not in team.members:
            raise Invalid("name the member who did it", code="member_required")
    else:
        member_id = None
    counted = [
        c
        for c in state.claims.values()
        if c.bonus_id == bonus_id
        and c.status != "rejected"
        and c.team_id == team_id
        and (bonus.per == "team" or c.member_id == member_id)
    ]
    if bonus.max_completions is not None and len(counted) >= bonus.max_completions:
        raise Conflict(
            "this challenge was already completed as often as it counts", code="bonus_maxed"
        )
    approved = official or not bonus.needs_approval
    return [
        ev.BonusClaimed(
            claim_id=claim_id,
            bonus_id=bonus_id,
            team_id=team_id,
            member_id=member_id,
            note=clean_line(cmd.note),
            approved=approved,
        )
    ]


def review_claim(
    state: TournamentState, actor: Actor, claim_id: str, *, approve: bool, reason: str
) -> list[ev.Event]:
    require_any(actor, state.id, *OFFICIALS)
    claim = state.claims.get(claim_id)
    if claim is None:
        raise NotFound("no such claim", code="claim_not_found")
    if claim.status == ("approved" if approve else "rejected"):
        return []
    if approve:
        return [ev.BonusClaimApproved(claim_id=claim_id)]
    return [ev.BonusClaimRejected(claim_id=claim_id, reason=clean_line(reason))]


def add_referee(
    state: TournamentState, actor: Actor, *, credential_id: str, label: str
) -> list[ev.Event]:
    require_organizer(actor, state.id)
    return [
        ev.CredentialIssued(credential_id=credential_id, role="referee", label=clean_line(label))
    ]


# -- stations and teams ----------------------------------------------------------------------


def require_free_station(
    state: TournamentState, play: TournamentPlay, game_id: str, station_id: str, match: str
) -> None:
    game = state.game(game_id)
    if station_id not in {s.id for s in game.stations}:
        raise NotFound("this game has no such station", code="station_not_found")
    occupant = play.stations.get((game_id, station_id))
    if occupant is not None and occupant != match:
        raise Conflict("another match is at this station", code="station_busy")


def require_teams_free(play: TournamentPlay, teams: Collection[str], match: str) -> None:
    """No team in two places at once."""
    for team in teams:
        elsewhere = play.busy.get(team)
        if elsewhere is not None and elsewhere != match:
            raise Conflict(f"team {team} is playing another match ({elsewhere})", code="team_busy")


# -- consequences of a changed result --------------------------------------------------------

_CHANGES_OUTCOME = (ev.ResultConfirmed, ev.ResultOverridden, ev.ResultReopened)


def dependent_writes(
    tournament_id: str, run: GameRun, spec_id: str, events: Sequence[ev.Event]
) -> list[tuple[str, list[ev.Event], int]]:
    """Reset, flag or void the matches whose participants a result change alters.

    A dependent match that has not been played goes back to the queue (reset, if it had been
    called or started); one that has been played is flagged for an organizer — its result was
    confirmed for other teams. One that is no longer needed (a grand-final reset after the
    winners-bracket team won the first final) loses any result it had and waits for nothing.
    Swiss rounds paired after the changed one are paired again if none of their matches has
    started, else flagged. Nothing is silently wrong.
    """
    if run.plan is None or run.resolution is None:
        return []
    if spec_id not in run.outcomes and not run.resolution[spec_id].stale:
        # A first result only fills slots that were still open: nothing downstream can have
        # been called, started or played yet.
        return []
    outcomes: dict[str, Outcome] = dict(run.outcomes)
    changed = False
    for event in events:
        if isinstance(event, (ev.ResultConfirmed, ev.ResultOverridden)):
            outcomes[spec_id] = event.outcome
            changed = True
        elif isinstance(event, ev.ResultReopened):
            outcomes.pop(spec_id, None)
            changed = True
    if not changed:
        return []
    after = formats.resolve(run.plan, outcomes)
    writes: list[tuple[str, list[ev.Event], int]] = []
    reason = f"the result of {spec_id} changed"
    for change in formats.diff_resolutions(run.resolution, after):
        if change.id == spec_id:
            continue
        record = run.records.get(change.id)
        base = {"game_id": run.game_id, "match_id": change.id}
        stream = lifecycle.stream_id(tournament_id, run.game_id, change.id)
        if change.state_after == "void":
            if record is not None and record.phase != "open":
                # Not needed any more: a result it had no longer counts, nobody goes to a table.
                undo: list[ev.Event] = []
                if record.phase == "confirmed":
                    undo.append(ev.ResultReopened(**base, reason=f"not needed: {reason}"))
                undo.append(ev.MatchReset(**base, reason=f"not needed: {reason}"))
                writes.append((stream, undo, record.version))
        elif change.was_played or (record is not None and record.phase == "confirmed"):
            if record is not None and not record.flagged:
                writes.append((stream, [ev.MatchFlagged(**base, reason=reason)], record.version))
        elif record is not None and record.phase not in ("open", "confirmed"):
            writes.append((stream, [ev.MatchReset(**base, reason=reason)], record.version))
    if run.plan.format == "swiss":
        writes.extend(_repair_later_rounds(tournament_id, run, spec_id, reason))
    return writes


def _repair_later_rounds(
    tournament_id: str, run: GameRun, spec_id: str, reason: str
) -> list[tuple[str, list[ev.Event], int]]:
    """Swiss pairs a round on the scores after the one before, and a pairing is fixed once
    made: when an earlier result changes, later rounds nobody has started go, to be paired
    again on the new scores; once one of their matches has started, those are flagged."""
    changed_round = run.specs[spec_id].round
    later = [s for s in run.specs.values() if s.round > changed_round]
    if not later:
        return []
    writes: list[tuple[str, list[ev.Event], int]] = []
    started = [
        record
        for s in later
        if (record := run.records.get(s.id)) is not None
        and (record.phase not in ("open", "called") or record.outcome is not None)
    ]
    if started:
        why = f"{reason} after round {changed_round + 1} was paired"
        for record in started:
            if not record.flagged:
                base = {"game_id": run.game_id, "match_id": record.spec_id}
                stream = lifecycle.stream_id(tournament_id, run.game_id, record.spec_id)
                writes.append((stream, [ev.MatchFlagged(**base, reason=why)], record.version))
        return writes
    for s in later:
        record = run.records.get(s.id)
        if record is not None and record.phase == "called":
            base = {"game_id": run.game_id, "match_id": s.id}
            stream = lifecycle.stream_id(tournament_id, run.game_id, s.id)
            event = ev.MatchReset(**base, reason=f"{reason}: paired again")
            writes.append((stream, [event], record.version))
    withdrawn = ev.RoundsWithdrawn(
        game_id=run.game_id,
        from_round=changed_round + 1,
        reason=f"{reason} in round {changed_round}",
    )
    writes.append((stream_id(tournament_id, run.game_id), [withdrawn], run.version))
    return writes
