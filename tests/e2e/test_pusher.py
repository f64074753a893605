"""The real pusher-js client (npm, ``tests/pusher``) in Chromium, on a page of the server's own
origin: a captain's phone follows the tournament, its team's private channel and presence,
authorized by its cookie through the auth endpoint; a guest's phone is refused the private
ones."""

from __future__ import annotations

from typing import Any

from tests.conftest import pusher_js
from tests.e2e.conftest import Server
from tests.e2e.helpers import Api, eventually, phone

#: A page of the server's origin without a Content-Security-Policy (pages have one, which
#: allows no script but the site's own): cookies, the auth endpoint and the socket are the
#: server's. (A page the browser made up itself would be refused the socket: Chromium keeps
#: pages of no address from reaching 127.0.0.1.)
PAGE = "/healthz"

FOLLOW = """([key, channels]) => {
  window.seen = [];
  const pusher = new Pusher(key, {
    cluster: "local",
    wsHost: location.hostname,
    wsPort: Number(location.port),
    forceTLS: false,
    enabledTransports: ["ws"],
    channelAuthorization: {endpoint: `/api/v1/tournaments/${key}/pusher/auth`, transport: "ajax"},
  });
  for (const name of channels) {
    const channel = pusher.subscribe(name);
    channel.bind_global((event, data) => {
      const members = channel.members && {count: channel.members.count, me: channel.members.me};
      window.seen.push(JSON.parse(JSON.stringify({channel: name, event, data, members})));
    });
  }
}"""


def follow(context: Any, key: str, channels: list[str]) -> Any:
    """A page running pusher-js on ``channels`` of the tournament ``key``."""
    _, folder = pusher_js()
    page = context.new_page()
    page.goto(PAGE)
    page.add_script_tag(path=str(folder / "node_modules/pusher-js/dist/web/pusher.min.js"))
    page.evaluate(FOLLOW, [key, channels])
    return page


def seen(page: Any, channel: str, event: str) -> Any:
    """The first ``event`` on ``channel`` the page's pusher-js has seen (waits for it)."""

    def found() -> Any:
        for line in page.evaluate("() => window.seen"):
            if line["channel"] == channel and line["event"] == event:
                return line
        return None

    return eventually(found)


def test_pusher_js_in_the_browser_follows_a_tournament_with_the_phones_cookie(
    browser: Any, server: Server, api: Api
) -> None:
    pusher_js()
    t = api.tournament()
    tid = t["tournament"]["id"]
    a = api.team(t, "Hop Stars", "Aoife")
    b = api.team(t, "Lager Legends", "Jonas")
    own, theirs = f"private-team-{a['team']['id']}", f"private-team-{b['team']['id']}"
    channels = ["tournament", own, theirs, "presence-tournament"]
    aoife = phone(browser, server.url, token=a["token"], tournament_id=tid)
    guest = phone(browser, server.url)
    try:
        page = follow(aoife, tid, channels)
        snapshot = seen(page, "tournament", "snapshot")["data"]
        rows = snapshot["state"]["leaderboard"]["rows"]
        assert {r["team"]["name"] for r in rows} == {"Hop Stars", "Lager Legends"}
        seen(page, own, "pusher:subscription_succeeded")
        assert seen(page, theirs, "pusher:subscription_error")["data"]["status"] == 403
        presence = seen(page, "presence-tournament", "pusher:subscription_succeeded")
        assert presence["members"]["me"]["info"]["name"] == "Aoife"

        api.call(
            "POST",
            f"/tournaments/{tid}/announcements",
            t["token"],
            {"message": "Hop Stars to table 2", "audience": "teams", "team_ids": [a["team"]["id"]]},
        )
        frame = seen(page, own, "frame")["data"]
        assert frame["messages"][0]["announcement"]["message"] == "Hop Stars to table 2"

        jonas = phone(browser, server.url, token=b["token"], tournament_id=tid)
        try:
            follow(jonas, tid, ["presence-tournament"])
            added = seen(page, "presence-tournament", "pusher:member_added")
            assert added["data"]["info"]["name"] == "Jonas"
        finally:
            jonas.close()
        removed = seen(page, "presence-tournament", "pusher:member_removed")
        assert removed["data"]["id"] == added["data"]["id"]

        watching = follow(guest, tid, ["tournament", "private-captains"])
        assert (
            seen(watching, "private-captains", "pusher:subscription_error")["data"]["status"] == 401
        )
        seen(watching, "tournament", "snapshot")
    finally:
        aoife.close()
        guest.close()
