"""The recap of a tournament: the podiums (overall and per game) and its records — most wins,
the longest winning streak, the best score in one game (one match: "10 cups v Lager Legends at
Beer Pong"), the most photos.

Built on demand from the play read models and the media projection, during the tournament
(podiums "so far") and after it. Wins and streaks count every rated result of every game in
the order the results were confirmed: a team wins a duel by winning it and a heat by coming
first alone; a draw, a loss or a shared first place ends a streak. Forfeits and byes are not
results (nobody played), as for ratings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Final

from beerolympics.domain.ratings import RatedResult
from beerolympics.projections.media import MediaItem
from beerolympics.projections.play_views import TeamRef, Views
from beerolympics.projections.views import View

#: A podium shows at most this many teams (ties at third place share it).
PODIUM_MAX: Final = 6
#: A record names at most this many teams; the others tied with them are counted.
RECORD_NAMES: Final = 3


class PodiumPlace(View, frozen=True):
    place: int
    team: TeamRef
    points: float


class Podium(View, frozen=True):
    """The top three of the overall leaderboard (``game_id`` None) or of one game.
    ``complete``: the places are final."""

    title: str
    game_id: str | None
    complete: bool
    places: list[PodiumPlace]


class RecordHolder(View, frozen=True):
    team: TeamRef
    #: What the record is about for this team, in words ("at Beer Pong").
    detail: str = ""


class Record(View, frozen=True):
    """One record of the night: its holders (ties share it) and its value. ``more`` counts the
    holders beyond those named."""

    key: str
    title: str
    value: float
    #: What the value counts, for one and for more ("photo", "photos").
    unit: tuple[str, str]
    holders: list[RecordHolder]
    more: int = 0


class RecapView(View, frozen=True):
    tournament_id: str
    status: str
    overall: Podium
    games: list[Podium]
    records: list[Record]
    results: int
    photos: int


def wins_and_streaks(results: Iterable[RatedResult]) -> tuple[Counter[str], Counter[str]]:
    """Each team's wins and longest run of wins in a row, over ``results`` in the order they
    were confirmed. A result is won by the team alone in first place; a draw for first, a loss
    or a place behind the winner in a heat ends a run."""
    wins: Counter[str] = Counter()
    streak: Counter[str] = Counter()
    longest: Counter[str] = Counter()
    for result in results:
        winners = result.winners
        for team in result.teams:
            if winners == (team,):
                wins[team] += 1
                streak[team] += 1
                longest[team] = max(longest[team], streak[team])
            else:
                streak[team] = 0
    return wins, longest


def recap(views: Views, media: Iterable[MediaItem]) -> RecapView:
    """The recap of the tournament ``views`` reads, with its photos and clips ``media``."""
    state, play = views.state, views.play
    media = list(media)

    def by_name(team_id: str) -> str:
        return state.teams[team_id].name.casefold()

    board = views.leaderboard()
    overall = [
        PodiumPlace(row.rank, row.team, row.points)
        for row in board.rows
        if row.rank is not None and row.rank <= 3 and row.status != "disqualified"
    ][:PODIUM_MAX]
    finished = state.status == "finished"
    games = []
    for config in state.games.values():
        run = play.games.get(config.id)
        if run is None or run.resolution is None:
            continue
        places = [
            PodiumPlace(p.place, p.team, p.points) for p in views.placements(run) if p.place <= 3
        ][:PODIUM_MAX]
        games.append(Podium(config.name, config.id, run.complete, places))
    results = play.ratings.results
    wins, longest = wins_and_streaks(results)
    # The best score a team put up in one match, with who it was against, where scores count
    # up (not in a game whose lowest score wins).
    best_game: dict[tuple[str, str, str], float] = {}
    for game_id, run in play.games.items():
        rules = state.games.get(game_id)
        if rules is None or rules.lower_score_wins:
            continue
        for a, b, _winner, score_a, score_b in run.head_to_head.values():
            for team, other, score in ((a, b, score_a), (b, a, score_b)):
                if score is not None and score > best_game.get((team, game_id, other), 0):
                    best_game[(team, game_id, other)] = score
    photos: Counter[str] = Counter(
        item.team_id for item in media if item.listed and item.team_id is not None
    )
    teams = {t for t in state.teams if state.teams[t].status != "disqualified"}

    def holders(counts: dict[str, float] | Counter[str]) -> tuple[float, list[str]]:
        found = {t: v for t, v in counts.items() if t in teams and v > 0}
        if not found:
            return 0, []
        top = max(found.values())
        named = sorted((t for t, v in found.items() if v == top), key=by_name)
        return top, named

    records = []
    for key, title, unit, counts in (
        ("most_wins", "Most wins", ("win", "wins"), wins),
        ("longest_streak", "Longest winning streak", ("in a row", "in a row"), longest),
        ("most_photos", "Most photos", ("photo", "photos"), photos),
    ):
        value, named = holders(counts)
        if named:
            records.append(
                Record(
                    key=key,
                    title=title,
                    value=value,
                    unit=unit,
                    holders=[RecordHolder(views.team(t)) for t in named[:RECORD_NAMES]],
                    more=max(len(named) - RECORD_NAMES, 0),
                )
            )
    if best_game:
        top = max(best_game.values())
        found = sorted(
            (key for key, value in best_game.items() if value == top and key[0] in teams),
            key=lambda key: (by_name(key[0]), state.games[key[1]].name.casefold()),
        )
        if found:
            records.insert(
                min(2, len(records)),
                Record(
                    key="best_game",
                    title="Best score in one game",
                    value=top,
                    unit=("point", "points"),
                    holders=[
                        RecordHolder(
                            views.team(team),
                            f"v {state.teams[other].name} at {state.games[game].name}",
                        )
                        for team, game, other in found[:RECORD_NAMES]
                    ],
                    more=max(len(found) - RECORD_NAMES, 0),
                ),
            )
    return RecapView(
        tournament_id=state.id,
        status=state.status,
        overall=Podium("Overall", None, finished, overall),
        games=games,
        records=records,
        results=len(results),
        photos=sum(1 for item in media if item.listed and item.status == "ready"),
    )
