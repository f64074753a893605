"""The pure rules of highlights: upsets on the ratings, nail-biters on the scores, streaks in
confirmation order, and what the leaderboard says about leaders and last places."""

from __future__ import annotations

from beerolympics.domain import highlights as rules
from beerolympics.domain.formats.base import HeadToHeadOutcome, HeatOutcome
from beerolympics.domain.ratings import INITIAL, RatedResult, Rating
from beerolympics.domain.scoring import PointsAndReach


def _result(order: int, *teams: str, ranks: tuple[int, ...] = (1, 2)) -> RatedResult:
    return RatedResult(order, ("g", f"m{order}"), teams, ranks)


def test_an_upset_needs_a_long_shot_and_a_record() -> None:
    strong, weak = Rating(32.0, 3.0, 4), Rating(18.0, 3.0, 4)
    chance = rules.upset_chance(_result(1, "weak", "strong"), (weak, strong))
    assert chance is not None
    assert 0 < chance < 0.3
    # The favourite winning is no upset; neither is anything the model knows nothing about.
    assert rules.upset_chance(_result(1, "strong", "weak"), (strong, weak)) is None
    assert rules.upset_chance(_result(1, "weak", "new"), (weak, INITIAL)) is None
    close = Rating(24.0, 3.0, 4), Rating(26.0, 3.0, 4)
    assert rules.upset_chance(_result(1, "a", "b"), close) is None
    # A draw has no winner, so no upset.
    assert rules.upset_chance(_result(1, "weak", "strong", ranks=(1, 1)), (weak, strong)) is None


def test_an_upset_in_a_heat_is_judged_against_a_fair_share() -> None:
    field = (Rating(15.0, 2.0, 3), Rating(30.0, 2.0, 3), Rating(30.0, 2.0, 3))
    heat = _result(1, "a", "b", "c", ranks=(1, 2, 3))
    chance = rules.upset_chance(heat, field)
    assert chance is not None
    assert chance < rules.UPSET_CHANCE / 3


def test_nail_biters_are_the_closest_scores() -> None:
    assert rules.nail_biter_margin(HeadToHeadOutcome(winner=0, scores=(10, 9))) == 1
    assert rules.nail_biter_margin(HeadToHeadOutcome(winner=None, scores=(5, 5))) == 0
    assert rules.nail_biter_margin(HeadToHeadOutcome(winner=0, scores=(10, 8))) is None
    assert rules.nail_biter_margin(HeadToHeadOutcome(winner=0)) is None  # no scores
    assert rules.nail_biter_margin(HeadToHeadOutcome(winner=None, scores=(0, 0))) is None
    forfeit = HeadToHeadOutcome(winner=1, scores=(0, 1), forfeited=0)
    assert rules.nail_biter_margin(forfeit) is None
    photo_finish = HeatOutcome(places=(2, 1, 3), values=(12.05, 12.0, 15.0))
    assert rules.nail_biter_margin(photo_finish) == 0.0042
    assert rules.nail_biter_margin(HeatOutcome(places=(2, 1), values=(13.0, 12.0))) is None
    assert rules.nail_biter_margin(HeatOutcome(places=(1, 1), values=(12.0, 12.0))) is None
    assert rules.nail_biter_margin(HeatOutcome(places=(1, 2))) is None


def test_streaks_count_wins_in_a_row_in_confirmation_order() -> None:
    results = [
        _result(1, "a", "b"),
        _result(2, "c", "a"),  # a loses
        _result(3, "a", "d"),
        _result(4, "b", "c"),  # not a's match
        _result(5, "a", "c"),
        _result(6, "d", "a", ranks=(2, 1)),  # a wins, second slot
    ]
    assert rules.winning_streak(results, "a") == 3
    assert rules.winning_streak(results, "c") == 0
    # Reading only a's results (their indices, as TeamRatings.by_team keeps them) agrees.
    assert rules.winning_streak(results, "a", [0, 1, 2, 4, 5]) == 3
    assert rules.winning_streak([*results, _result(7, "a", "b", ranks=(1, 1))], "a") == 0
    assert [n for n in range(1, 31) if rules.is_streak_mark(n)] == [3, 5, 7, 10, 15, 20, 25, 30]


def _team(team: str, points: float, max_points: float, played: bool = True) -> PointsAndReach:
    return PointsAndReach(team, points, max_points, played)


def test_the_board_counts_leads_and_last_places_on_points() -> None:
    board = rules.board_of([_team("a", 200, 300), _team("b", 150, 250), _team("c", 100, 199)])
    assert (board.leader, board.last, board.champion) == ("a", "c", None)
    assert board.podium == {"a", "b", "c"}
    # Ahead of everybody's best: the title is decided.
    assert rules.board_of([_team("a", 200, 300), _team("b", 150, 199)]).champion == "a"
    # A lead on a tie-break is no lead; nor is last place while a team has not played.
    level = rules.board_of([_team("a", 100, 200), _team("b", 100, 200)])
    assert (level.leader, level.last) == (None, None)
    waiting = rules.board_of(
        [_team("a", 100, 200), _team("b", 50, 150), _team("c", 0, 100, played=False)]
    )
    assert (waiting.leader, waiting.last, waiting.ranked) == ("a", None, 2)
    assert rules.board_of([]) == rules.Board()
    nobody_scored = rules.board_of([_team("a", 0, 100), _team("b", 0, 100)])
    assert nobody_scored.leader is None
    # The podium is everyone with fewer than three teams ahead on points.
    field = [_team(t, p, 500) for t, p in zip("abcde", (90, 80, 70, 70, 10), strict=True)]
    assert rules.board_of(field).podium == {"a", "b", "c", "d"}


def test_ids_are_the_same_for_the_same_confirmation() -> None:
    one = rules.highlight_id("cup", 42, "clincher", "game")
    assert one == rules.highlight_id("cup", 42, "clincher", "game")
    assert one != rules.highlight_id("cup", 42, "clincher", "title")
    assert one != rules.highlight_id("cup", 43, "clincher", "game")
    assert one.startswith("hl_")
