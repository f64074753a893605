"""Everything the service stores round-trips through msgspec JSON unchanged."""

from __future__ import annotations

import random

import msgspec
import pytest

from beerolympics.domain.formats import (
    FORMATS,
    HeadToHeadOutcome,
    HeatOutcome,
    MatchChange,
    Outcome,
    Plan,
    Resolution,
    StandingsTable,
    build,
    diff_resolutions,
    double_forfeit,
    forfeit,
    resolve,
    standings,
    tie,
    win,
)
from tests.unit.formats.simulation import play_out, team_names

OPTIONS: dict[str, dict[str, object]] = {
    "round_robin": {"double": True, "allow_draws": True},
    "single_elimination": {"third_place": True, "best_of": 3, "final_best_of": 5},
    "double_elimination": {"grand_final": "reset", "seeding": "random"},
    "swiss": {"rounds": 3, "tiebreaks": ["buchholz", "head_to_head"]},
    "groups_playoffs": {"groups": 2, "third_place": True},
    "heats": {"heat_size": 3, "rounds": 2, "advance_per_heat": 1},
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_plans_round_trip(name: str) -> None:
    plan = build(name, team_names(9), OPTIONS[name], random.Random(5))
    plan, outcomes = play_out(plan, random.Random(5), ties=True)
    data = msgspec.json.encode(plan)
    assert msgspec.json.decode(data, type=Plan) == plan
    decoded = msgspec.json.decode(msgspec.json.encode(outcomes), type=dict[str, Outcome])
    assert decoded == outcomes
    resolution = resolve(plan, outcomes)
    assert msgspec.json.decode(msgspec.json.encode(resolution), type=Resolution) == resolution
    tables = standings(plan, outcomes)
    encoded = msgspec.json.encode(tables)
    assert msgspec.json.decode(encoded, type=tuple[StandingsTable, ...]) == tables


def test_outcomes_and_sources_are_tagged() -> None:
    outcomes: list[Outcome] = [
        win(0, (21.0, 10.0)),
        tie(),
        forfeit(1),
        double_forfeit(),
        HeadToHeadOutcome(winner=1, teams=("a", "b")),
        HeatOutcome(places=(1, 1, 3), values=(9.5, 9.5, 12.0), direction="lower"),
    ]
    data = msgspec.json.encode(outcomes)
    assert b'"type":"head_to_head"' in data
    assert b'"type":"heat"' in data
    assert msgspec.json.decode(data, type=list[Outcome]) == outcomes
    plan = build("double_elimination", ["a", "b", "c"])
    text = msgspec.json.encode(plan).decode()
    for tag in ('"type":"team"', '"type":"bye"', '"type":"winner"', '"type":"loser"'):
        assert tag in text
    assert '"type":"slot_won"' in text
    assert '"format":"double_elimination"' in text


def test_diff_round_trips() -> None:
    plan = build("single_elimination", team_names(4))
    before = resolve(plan, {"R1-1": win(0), "R1-2": win(0)})
    after = resolve(plan, {"R1-1": win(0)})
    changes = diff_resolutions(before, after)
    assert changes
    data = msgspec.json.encode(changes)
    assert msgspec.json.decode(data, type=tuple[MatchChange, ...]) == changes
