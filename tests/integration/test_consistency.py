"""Two instances on one store that hear nothing from each other (no backplane, a poll a
minute): a phone's next request, landing on the other instance, still finds what it just made."""

from __future__ import annotations

from pathlib import Path

from tests.factories import api_client, bearer, make_settings


async def test_the_other_instance_catches_up_before_saying_no(tmp_path: Path) -> None:
    shared = {"database_url": f"sqlite:///{tmp_path / 'shared.db'}", "poll_interval": 60}
    async with (
        api_client(make_settings(tmp_path / "a", **shared)) as a,
        api_client(make_settings(tmp_path / "b", **shared)) as b,
    ):
        created = (await a.post("/api/v1/tournaments", json={"name": "Two doors"})).json()
        tid, organizer = created["tournament"]["id"], bearer(created["token"])
        api = f"/api/v1/tournaments/{tid}"
        # Reads and the credential of a tournament B has not heard of yet.
        assert (await b.get(api)).status_code == 200
        assert (await b.get(f"{api}/me", headers=organizer)).json()["role"] == "organizer"

        game = await a.post(
            f"{api}/games", json={"name": "Pong", "format": "round_robin"}, headers=organizer
        )
        assert game.status_code == 201
        # A command about a game only A knows: B looks at the log again, then decides.
        started = await b.post(f"{api}/games/{game.json()['id']}/start", json={}, headers=organizer)
        assert started.status_code != 404, started.text
        # A refusal that stays one after catching up is still a refusal.
        missing = await b.post(f"{api}/games/gm_missing/start", json={}, headers=organizer)
        assert missing.status_code == 404
