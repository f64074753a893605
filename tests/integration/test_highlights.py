"""Highlights through the services: each kind found in the results that make it, recorded in
the log, retracted when its result stops counting; and highlights rebuilt from the log equal
the live ones, whatever results are confirmed, overridden and reopened."""

from __future__ import annotations

import asyncio
import random
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beerolympics.domain.commands import AddGame, OverrideResult, Reopen, ReportResult
from beerolympics.domain.errors import DomainError
from beerolympics.domain.identity import Actor
from beerolympics.domain.matches import match_key
from beerolympics.projections.catalog import Catalog
from beerolympics.projections.highlights import HighlightRecord, Highlights, _holds
from beerolympics.projections.media import Media
from beerolympics.projections.play import Play
from beerolympics.projections.projector import Projector
from beerolympics.runtime import Runtime
from beerolympics.settings import Settings
from tests.conftest import fresh_postgres_schema
from tests.integration.test_standings import _tournament


@asynccontextmanager
async def _runtime() -> AsyncIterator[Runtime]:
    with tempfile.TemporaryDirectory() as tmp:
        values = {"data_dir": tmp, "database_url": "memory://", "secret_key": "highlights"}
        rt = await Runtime.open(Settings.load(values, environ={}))
        await rt.start()
        try:
            yield rt
        finally:
            await rt.close()


def _names(rt: Runtime, tid: str) -> dict[str, str]:
    """Team name → id (teams are T0, T1, …)."""
    return {t.name: t.id for t in rt.catalog.get(tid).teams.values()}


async def _result(
    rt: Runtime,
    tid: str,
    org: Actor,
    game: str,
    teams: set[str],
    result: ReportResult,
) -> str:
    """Report ``result`` for the ready match of ``game`` between ``teams``; its key."""
    run = rt.play.get(tid).games[game]
    assert run.resolution is not None
    spec_id = next(
        s for s, r in run.resolution.matches.items() if r.state == "ready" and set(r.teams) == teams
    )
    key = match_key(game, spec_id)
    await rt.matches.report(tid, org, key, result)
    await rt.recorder.idle()
    return key


def _games(rt: Runtime, tid: str) -> list[str]:
    return list(rt.catalog.get(tid).games)


def _kinds(rt: Runtime, tid: str) -> list[tuple[str, str]]:
    return [(h.kind, h.text) for h in rt.highlight_states.highlights(tid)]


def _of(rt: Runtime, tid: str, kind: str) -> list[HighlightRecord]:
    return [h for h in rt.highlight_states.highlights(tid) if h.kind == kind]


async def test_first_blood_and_nail_biter_then_a_reopen_retracts_them() -> None:
    async with _runtime() as rt:
        tid, org = await _tournament(rt, 2, [AddGame(name="Pong", format="single_elimination")])
        t = _names(rt, tid)
        (game,) = _games(rt, tid)
        key = await _result(
            rt, tid, org, game, {t["T0"], t["T1"]}, ReportResult(score={t["T0"]: 10, t["T1"]: 9})
        )
        kinds = _kinds(rt, tid)
        assert ("first_blood", "First blood: T0 beat T1 at Pong.") in kinds
        assert ("nail_biter", "Nail-biter: T0 edged T1 10–9 at Pong.") in kinds
        assert ("clincher", "T0 clinched Pong.") in kinds
        first = rt.highlight_states.highlights(tid)
        assert all(h.match == key and h.teams[0] == t["T0"] for h in first)
        # Recorded in the log, on the tournament's highlights stream.
        stored = await rt.store.read_stream(f"highlights:{tid}")
        assert [e.type for e in stored] == ["HighlightDetected"] * len(first)

        await rt.matches.reopen(tid, org, key, Reopen(reason="Wrong sheet"))
        await rt.recorder.idle()
        assert rt.highlight_states.highlights(tid) == []
        stored = await rt.store.read_stream(f"highlights:{tid}")
        retracted = [e for e in stored if e.type == "HighlightRetracted"]
        assert {e.data["highlight_id"] for e in retracted} == {h.id for h in first}

        # Entered again the other way: found afresh, with new ids; an override retracts those.
        await rt.matches.report(tid, org, key, ReportResult(score={t["T0"]: 2, t["T1"]: 10}))
        await rt.recorder.idle()
        again = rt.highlight_states.highlights(tid)
        assert {h.kind for h in again} == {"first_blood", "clincher"}
        assert not {h.id for h in again} & {h.id for h in first}
        override = OverrideResult(
            result=ReportResult(score={t["T0"]: 5, t["T1"]: 4}), reason="Video review"
        )
        await rt.matches.override(tid, org, key, override)
        await rt.recorder.idle()
        final = rt.highlight_states.highlights(tid)
        assert {h.kind for h in final} == {"first_blood", "nail_biter", "clincher"}
        assert all(h.teams[0] == t["T0"] for h in final)
        assert not {h.id for h in final} & {h.id for h in again}


async def test_perfect_run_and_a_second_result_is_no_first_blood() -> None:
    async with _runtime() as rt:
        tid, org = await _tournament(rt, 4, [AddGame(name="Cup", format="single_elimination")])
        t = _names(rt, tid)
        (game,) = _games(rt, tid)
        run = rt.play.get(tid).games[game]
        assert run.resolution is not None
        pairs = [set(r.teams) for r in run.resolution.matches.values() if r.state == "ready"]
        champion = next(iter(pairs[0]))
        for pair in pairs:
            winner = champion if champion in pair else min(pair)
            await _result(rt, tid, org, game, pair, ReportResult(winner=winner))
        run = rt.play.get(tid).games[game]
        assert run.resolution is not None
        final = next(set(r.teams) for r in run.resolution.matches.values() if r.state == "ready")
        await _result(rt, tid, org, game, final, ReportResult(winner=champion))
        assert len(_of(rt, tid, "first_blood")) == 1
        (perfect,) = _of(rt, tid, "perfect_run")
        name = rt.catalog.get(tid).teams[champion].name
        assert perfect.text == f"Perfect run: {name} won Cup without losing (2 wins)."
        assert perfect.detail == {"wins": 2}
        # The only game decided decides the title too.
        assert {(h.detail["scope"], h.teams) for h in _of(rt, tid, "clincher")} == {
            ("game", (champion,)),
            ("title", (champion,)),
        }
        assert champion in t.values()


async def test_comeback_from_the_losers_bracket_and_a_streak() -> None:
    async with _runtime() as rt:
        tid, org = await _tournament(rt, 4, [AddGame(name="Pong", format="double_elimination")])
        (game,) = _games(rt, tid)
        hero = _names(rt, tid)["T3"]
        lost_once = False
        while True:
            run = rt.play.get(tid).games[game]
            assert run.resolution is not None
            ready = [set(r.teams) for r in run.resolution.matches.values() if r.state == "ready"]
            if not ready:
                break
            pair = ready[0]
            if hero in pair:
                winner = min(pair - {hero}) if not lost_once else hero
                lost_once = True
            else:
                winner = min(pair)
            await _result(rt, tid, org, game, pair, ReportResult(winner=winner))
        assert rt.play.get(tid).games[game].placements[hero] == 1
        (comeback,) = _of(rt, tid, "comeback")
        assert comeback.text == "Comeback: T3 won Pong from the losers' bracket."
        assert comeback.detail == {"from": "losers_bracket"}
        streaks = _of(rt, tid, "streak")
        assert [h.text for h in streaks if h.teams == (hero,)][:1] == ["T3: 3 wins in a row."]
        assert not _of(rt, tid, "perfect_run")


async def test_upset_is_judged_on_the_ratings_before_the_match() -> None:
    async with _runtime() as rt:
        tid, org = await _tournament(rt, 4, [AddGame(name="Darts", format="round_robin")])
        t = _names(rt, tid)
        (game,) = _games(rt, tid)
        a, b, c, d = t["T0"], t["T1"], t["T2"], t["T3"]
        for winner, loser in ((a, c), (a, d), (c, b), (d, b)):
            await _result(rt, tid, org, game, {winner, loser}, ReportResult(winner=winner))
        assert not _of(rt, tid, "upset")
        await _result(rt, tid, org, game, {a, b}, ReportResult(winner=b))
        (upset,) = _of(rt, tid, "upset")
        assert upset.teams == (b, a)
        chance = upset.detail["chance"]
        assert isinstance(chance, float)
        assert 0 < chance < 0.3
        assert upset.text == f"Upset! T1 beat T0 at Darts with a {round(chance * 100)}% chance."


async def test_lead_change_and_the_title_clinched() -> None:
    games = [AddGame(name=f"Game {n}", format="single_elimination") for n in range(3)]
    async with _runtime() as rt:
        tid, org = await _tournament(rt, 2, games)
        t = _names(rt, tid)
        pair = {t["T0"], t["T1"]}
        first, second, third = _games(rt, tid)
        await _result(rt, tid, org, first, pair, ReportResult(winner=t["T0"]))
        assert not _of(rt, tid, "lead_change")  # the first leader is no change
        await _result(rt, tid, org, second, pair, ReportResult(winner=t["T1"]))
        assert not _of(rt, tid, "lead_change")  # level
        await _result(rt, tid, org, third, pair, ReportResult(winner=t["T1"]))
        (change,) = _of(rt, tid, "lead_change")
        assert change.text == "T1 takes the lead from T0."
        assert change.teams == (t["T1"], t["T0"])
        title = [h for h in _of(rt, tid, "clincher") if h.detail == {"scope": "title"}]
        assert [h.text for h in title] == ["T1 clinched the title: nobody can catch them now."]


async def test_comeback_from_last_place_overall() -> None:
    games = [
        AddGame(
            name="Relay",
            format="heats",
            options={"heat_size": 6, "rounds": 1},
            placement_points=[60, 50, 40, 30, 20, 10],
        ),
        AddGame(
            name="Chug",
            format="heats",
            options={"heat_size": 6, "rounds": 1},
            placement_points=[200, 20, 15, 12, 11, 10],
        ),
    ]
    async with _runtime() as rt:
        tid, org = await _tournament(rt, 6, games)
        t = _names(rt, tid)
        relay, chug = _games(rt, tid)
        everyone = set(t.values())
        order = [t[f"T{n}"] for n in range(6)]
        places = {team: n + 1 for n, team in enumerate(order)}
        await _result(rt, tid, org, relay, everyone, ReportResult(places=places))
        assert not _of(rt, tid, "comeback")
        places = {team: n + 1 for n, team in enumerate([order[-1], *order[:-1]])}
        await _result(rt, tid, org, chug, everyone, ReportResult(places=places))
        (comeback,) = _of(rt, tid, "comeback")
        assert comeback.text == "Comeback: T5 went from last place to the top three."
        assert comeback.teams == (t["T5"],)


async def _random_night(seed: int) -> None:
    rng = random.Random(seed)
    games = [
        AddGame(name="Pong", format="double_elimination"),
        AddGame(
            name="Relay",
            format="heats",
            options={"heat_size": 3, "rounds": 2, "advance_per_heat": 2},
        ),
        AddGame(name="Darts", format="round_robin", options={"allow_draws": True}),
    ]
    async with _runtime() as rt:
        tid, org = await _tournament(rt, rng.randint(5, 8), games)
        done: list[str] = []
        for _ in range(45):
            if rng.random() < 0.7:
                # Mostly recorded before the next result; sometimes corrected before that.
                await rt.recorder.idle()
            play = rt.play.get(tid)
            done = [
                k
                for k in done
                if play.games[k.partition(".")[0]].records[k.partition(".")[2]].phase == "confirmed"
            ]
            roll = rng.random()
            if done and roll < 0.15:
                await rt.matches.reopen(tid, org, rng.choice(done), Reopen(reason="Wrong sheet"))
                continue
            if done and roll < 0.3:
                key = rng.choice(done)
                game_id, _, spec_id = key.partition(".")
                run = play.games[game_id]
                teams = run.resolved(spec_id).teams
                if len(teams) < 2:
                    continue
                if run.specs[spec_id].kind == "heat":
                    result = ReportResult(values={t: float(rng.randrange(3)) for t in teams})
                else:
                    score = rng.randrange(8)
                    result = ReportResult(
                        score={teams[0]: score, teams[1]: score + rng.choice((-1, 1, 3))}
                    )
                await rt.matches.override(
                    tid, org, key, OverrideResult(result=result, reason="Video review")
                )
                continue
            ready = [
                (game_id, spec_id, resolved.teams, run.specs[spec_id])
                for game_id, run in play.games.items()
                if run.resolution is not None
                for spec_id, resolved in run.resolution.matches.items()
                if resolved.state == "ready"
            ]
            if not ready:
                for game_id in play.games:
                    await rt.games.add_round(tid, game_id)
                continue
            game_id, spec_id, teams, spec = rng.choice(ready)
            if spec.kind == "heat":
                result = ReportResult(values={t: float(rng.randrange(20)) for t in teams})
            elif spec.allow_ties and rng.random() < 0.2:
                result = ReportResult(draw=True)
            else:
                score = rng.randrange(8)
                result = ReportResult(
                    score={teams[0]: score, teams[1]: score + rng.choice((-2, -1, 1, 4))}
                )
            key = match_key(game_id, spec_id)
            try:
                await rt.matches.report(tid, org, key, result)
            except DomainError:
                continue  # flagged by an earlier change
            done.append(key)
        await rt.recorder.idle()
        live = rt.highlight_states
        # Every live highlight stands on a result that still counts, and nothing is owed.
        play = rt.play.get(tid)
        shown = live.highlights(tid)
        assert all(_holds(play, h.game_id, h.match_id, h.trigger) for h in shown)
        assert not live.of(tid).stale
        assert not live.of(tid).pending
        # A replay of the log into fresh projections comes to the same highlights, and finds
        # nothing the log does not already have.
        catalog = Catalog()
        fresh_play = Play(catalog)
        fresh = Highlights(catalog, fresh_play, Media())
        await Projector(rt.store, rt.codec, [catalog, fresh_play, fresh]).replay()
        assert fresh.highlights(tid) == shown
        assert fresh.of(tid).records == live.of(tid).records
        assert not fresh.of(tid).owing


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=0, max_value=1_000_000))
def test_highlights_rebuilt_from_the_log_equal_the_live_ones(seed: int) -> None:
    asyncio.run(_random_night(seed))


def _on_disk(folder: str, url: str = "") -> Settings:
    values = {
        "data_dir": folder,
        "database_url": url or f"sqlite:///{folder}/events.db",
        "secret_key": "highlights",
        "snapshot_min_events": 1,
        "poll_interval": 0.05,
    }
    return Settings.load(values, environ={})


async def test_highlights_owed_when_an_instance_stopped_are_recorded_after_its_restart() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # An instance that stores a result and stops before recording its highlights (its
        # recorder never ran).
        rt = await Runtime.open(_on_disk(tmp))
        try:
            tid, org = await _tournament(rt, 2, [AddGame(name="Pong", format="round_robin")])
            t = _names(rt, tid)
            (game,) = _games(rt, tid)
            run = rt.play.get(tid).games[game]
            assert run.resolution is not None
            (spec_id,) = run.resolution.matches
            await rt.matches.report(
                tid, org, match_key(game, spec_id), ReportResult(score={t["T0"]: 3, t["T1"]: 2})
            )
            owed = set(rt.highlight_states.of(tid).pending)
            assert len(owed) == 4  # first blood, nail-biter, game and title clinchers
            assert await rt.store.read_stream(f"highlights:{tid}") == []
        finally:
            await rt.close()  # writes a snapshot, pending highlights and all
        # Restarted (from the snapshot): what the result owed is recorded now.
        rt = await Runtime.open(_on_disk(tmp))
        await rt.start()
        try:
            assert rt.snapshots is not None
            assert rt.snapshots.position > 0
            await rt.recorder.idle()
            stored = await rt.store.read_stream(f"highlights:{tid}")
            assert {e.data["highlight_id"] for e in stored} == owed
            recorded = rt.highlight_states.highlights(tid)
            assert {h.id for h in recorded} == owed
        finally:
            await rt.close()
        # And once more: the same highlights, from the log, nothing owed.
        rt = await Runtime.open(_on_disk(tmp))
        await rt.start()
        try:
            await rt.recorder.idle()
            assert rt.highlight_states.highlights(tid) == recorded
            assert not rt.highlight_states.of(tid).owing
            assert len(await rt.store.read_stream(f"highlights:{tid}")) == 4
        finally:
            await rt.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def shared_store(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """Where two instances share their log: a SQLite file ("" here), or a fresh schema of the
    test PostgreSQL."""
    if request.param == "sqlite":
        yield ""
        return
    async with fresh_postgres_schema() as url:
        yield url


async def test_two_instances_record_each_highlight_once(shared_store: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        first = await Runtime.open(_on_disk(tmp, shared_store))
        second = await Runtime.open(_on_disk(tmp, shared_store))
        try:
            tid, org = await _tournament(
                first, 2, [AddGame(name=f"Game {n}", format="round_robin") for n in range(3)]
            )
            t = _names(first, tid)
            for game in _games(first, tid):
                run = first.play.get(tid).games[game]
                assert run.resolution is not None
                (spec_id,) = run.resolution.matches
                score = {t["T1"]: 5, t["T0"]: 4}
                await first.matches.report(
                    tid, org, match_key(game, spec_id), ReportResult(score=score)
                )
            await second.projector.catch_up()
            owed = set(first.highlight_states.of(tid).pending)
            assert set(second.highlight_states.of(tid).pending) == owed
            assert len(owed) >= 6
            # Both record at once: one appends, the other fails the stream's expected version,
            # catches up and finds nothing left to record.
            appended = await asyncio.gather(first.recorder.record(tid), second.recorder.record(tid))
            assert sorted(appended) == [0, len(owed)]
            await first.projector.catch_up()
            stored = await first.store.read_stream(f"highlights:{tid}")
            assert sorted(e.data["highlight_id"] for e in stored) == sorted(owed)
            assert first.highlight_states.highlights(tid) == second.highlight_states.highlights(tid)
            assert not first.highlight_states.of(tid).owing
            assert not second.highlight_states.of(tid).owing
        finally:
            await second.close()
            await first.close()
