"""Push notifications and webhooks as people use them: a player turns on "Notify me" on the
team page, the server pushes "You're up at Table 3" through pywebpush, and Chromium's service
worker shows it and opens the match when it is tapped; an organizer adds a webhook in the
control room, sees its secret once, and reads its delivery log.

Chromium's own push service (Firebase Cloud Messaging) cannot be reached from here, so the
one part of the path not run for real is the browser asking it for a subscription:
``pushManager.subscribe`` hands out a subscription on the test's local push service instead
(the receiver of ``tests/receivers.py``), with a key pair the test holds. Everything around it is
real: the page's button, the permission, the server's VAPID key the page subscribes with, the
server storing the subscription, the job sending the encrypted push, the receiver decrypting it
(RFC 8291) — and the decrypted payload delivered to the service worker over the DevTools
protocol (``ServiceWorker.deliverPushMessage``), as the browser does with what its push service
brings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook

from tests.e2e.conftest import E2E_ENV
from tests.e2e.helpers import Api, eventually, phone, serving, wait_for_service_worker
from tests.receivers import Phone, Receiver, unb64url
from tests.servers import ServeProcess

NOTIFY_ENV = {
    **E2E_ENV,
    # The push service and the webhook receivers of these tests listen on 127.0.0.1.
    "BEEROLYMPICS_NOTIFY_ALLOW_PRIVATE": "true",
    "BEEROLYMPICS_NOTIFY_RETRY_SECONDS": "0.5",
}

#: Stands in for the browser's push service when the page subscribes (see the module's text).
#: The subscription it hands out is the test's; the key the page passed is kept for a check.
LOCAL_PUSH_SERVICE = """
(() => {
  const given = %s;
  const stored = () => JSON.parse(localStorage.getItem("test-push") || "null");
  const subscription = (key) => ({
    endpoint: given.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true, applicationServerKey: new Uint8Array(key).buffer },
    toJSON: () => ({ endpoint: given.endpoint, expirationTime: null, keys: given.keys }),
    unsubscribe: async () => { localStorage.removeItem("test-push"); return true; },
  });
  PushManager.prototype.subscribe = async function (options) {
    const key = [...new Uint8Array(options.applicationServerKey)];
    const kept = { key, userVisibleOnly: options.userVisibleOnly };
    localStorage.setItem("test-push", JSON.stringify(kept));
    return subscription(key);
  };
  PushManager.prototype.getSubscription = async function () {
    const kept = stored();
    return kept ? subscription(kept.key) : null;
  };
})();
"""


@pytest.fixture(scope="module")
def notify_server(
    tmp_path_factory: pytest.TempPathFactory, chromium: Path
) -> Iterator[ServeProcess]:
    running = ServeProcess(tmp_path_factory.mktemp("e2e-notify"), env=NOTIFY_ENV)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def notify_api(notify_server: ServeProcess) -> Iterator[Api]:
    with Api(notify_server.url) as client:
        yield client


def _notifications(worker: Any) -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = worker.evaluate(
        """() => self.registration.getNotifications().then((all) => all.map((n) => ({
            title: n.title, body: n.body, tag: n.tag, icon: n.icon, data: n.data,
            requireInteraction: n.requireInteraction })))"""
    )
    return shown


def _tap(worker: Any) -> None:
    """Tap the notification shown, and return once the worker has done what a tap does. (No
    DevTools command taps a notification: the event is made in the worker; what it asks to
    wait for is awaited here.)"""
    worker.evaluate(
        """async () => {
            const [notification] = await self.registration.getNotifications();
            const event = new NotificationEvent("notificationclick", { notification });
            let work = Promise.resolve();
            Object.defineProperty(event, "waitUntil", { value: (promise) => { work = promise; } });
            self.dispatchEvent(event);
            await work;
        }"""
    )


def test_a_player_turns_on_notify_me_and_chromium_shows_the_push_and_opens_the_match(
    browser: Any, notify_server: ServeProcess, notify_api: Api, screenshots: Path
) -> None:
    api = notify_api
    t = api.tournament()
    tid = t["tournament"]["id"]
    ours = api.team(t, "Hop Stars", "Aoife")
    theirs = api.team(t, "Foam Fighters", "Bram")
    team_id = ours["team"]["id"]
    listing = f"/tournaments/{tid}/push/subscriptions"
    handset = Phone()
    with serving(Receiver(answer=lambda n: 201)) as push_service:
        endpoint = f"{push_service.url}/push/aoife"
        context = phone(browser, notify_server.url, token=ours["token"], tournament_id=tid)
        context.grant_permissions(["notifications"], origin=notify_server.url)
        context.add_init_script(
            LOCAL_PUSH_SERVICE % json.dumps({"endpoint": endpoint, "keys": handset.keys()})
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        cdp = context.new_cdp_session(page)
        registrations: dict[str, str] = {}
        cdp.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda event: registrations.update(
                {r["scopeURL"]: r["registrationId"] for r in event["registrations"]}
            ),
        )
        cdp.send("ServiceWorker.enable")
        page.goto(f"/t/{tid}/teams/{team_id}")
        wait_for_service_worker(page)

        box = page.locator("[data-notify]")
        expect(box).to_be_visible()
        expect(box).to_contain_text("Get a notification when your team is called")
        page.get_by_role("button", name="Notify me").click()
        expect(box).to_contain_text("On: this phone is told when your team is called")
        expect(page.get_by_role("button", name="Stop notifications")).to_be_visible()
        expect(page.get_by_role("button", name="Notify me")).to_be_hidden()
        page.screenshot(path=screenshots / "team-notify-on.png")

        # The page subscribed with the server's VAPID key, and the server has this phone.
        server_key = api.call("GET", f"/tournaments/{tid}/push/key")["public_key"]
        used = page.evaluate("() => JSON.parse(localStorage.getItem('test-push'))")
        assert bytes(used["key"]) == unb64url(server_key)
        assert used["userVisibleOnly"] is True
        [stored] = api.call("GET", listing, ours["token"])["items"]
        assert (stored["team_id"], stored["push_service"]) == (team_id, "127.0.0.1")
        first_id = stored["id"]

        # The browser renews the subscription (as push services do now and then): the service
        # worker gives the new one to the server and drops the old. Nothing can make Chromium
        # renew one here, so the event is dispatched in the worker by hand.
        renewed = Phone()
        [worker] = context.service_workers
        worker.evaluate(
            """async (fresh) => {
                const event = new ExtendableEvent("pushsubscriptionchange");
                Object.defineProperty(event, "oldSubscription", { value: null });
                Object.defineProperty(event, "newSubscription", { value: { toJSON: () => fresh } });
                let work = Promise.resolve();
                const wait = (promise) => { work = promise; };
                Object.defineProperty(event, "waitUntil", { value: wait });
                self.dispatchEvent(event);
                await work;
            }""",
            {"endpoint": f"{push_service.url}/push/renewed", "keys": renewed.keys()},
        )
        # The new one stored, the old one dropped.
        [stored] = api.call("GET", listing, ours["token"])["items"]
        assert stored["id"] != first_id
        handset = renewed

        # Calling the match to Table 3 makes the server push "You're up" to the team's phones.
        game = api.game(t, name="Beer Pong", format="single_elimination", stations=["Table 3"])
        api.start_game(t, game["id"])
        [match] = api.matches(tid, game_id=game["id"])
        assert {s["team"]["id"] for s in match["slots"]} == {team_id, theirs["team"]["id"]}
        got = eventually(
            lambda: [r for r in push_service.received if r.path == "/push/renewed"], within=20
        )
        assert [r for r in push_service.received if r.path == "/push/aoife"] == []
        assert got[0].headers["Content-Encoding"] == "aes128gcm"
        payload = handset.decrypt(got[0].body)
        assert payload["title"] == "You're up at Table 3"
        assert payload["url"] == f"/t/{tid}/matches/{match['id']}"

        # What the push service brought, handed to the service worker as Chromium does.
        page.goto(f"/t/{tid}")
        wait_for_service_worker(page)
        origin = notify_server.url
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": origin,
                "registrationId": registrations[f"{origin}/"],
                "data": json.dumps(payload),
            },
        )
        [shown] = eventually(lambda: _notifications(worker))
        assert shown["title"] == "You're up at Table 3"
        assert shown["body"] == payload["body"]
        assert "Beer Pong" in shown["body"]
        assert shown["tag"] == payload["tag"]
        assert shown["icon"].startswith(f"{origin}/static/")
        assert shown["icon"].endswith("/icons/icon-192.png")
        assert shown["data"] == {"url": f"{origin}{payload['url']}"}
        assert shown["requireInteraction"] is True  # "you're up" waits to be seen

        # A second push for the same match replaces the first (one notification per tag).
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": origin,
                "registrationId": registrations[f"{origin}/"],
                "data": json.dumps({**payload, "title": "Still waiting at Table 3"}),
            },
        )
        eventually(
            lambda: [n["title"] for n in _notifications(worker)] == ["Still waiting at Table 3"]
        )

        # Tapping it takes the open window to the match (a synthetic tap: no DevTools command
        # clicks a notification; focusing needs a real tap's activation, navigating does not).
        _tap(worker)
        page.wait_for_url(f"**{payload['url']}")
        assert eventually(lambda: _notifications(worker) == [])

        # Tapped again while the match is already showing: that window stays, nothing opens.
        page.evaluate("() => { window.stillHere = true; }")
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": origin,
                "registrationId": registrations[f"{origin}/"],
                "data": json.dumps(payload),
            },
        )
        eventually(lambda: _notifications(worker))
        _tap(worker)
        assert eventually(lambda: _notifications(worker) == [])
        assert page.evaluate("() => window.stillHere") is True
        assert len(context.pages) == 1

        # Turning it off: the server forgets the phone.
        page.goto(f"/t/{tid}/teams/{team_id}")
        page.get_by_role("button", name="Stop notifications").click()
        expect(page.get_by_role("button", name="Notify me")).to_be_visible()
        assert api.call("GET", listing, ours["token"])["items"] == []
        assert page.evaluate("() => localStorage.getItem('test-push')") is None
        assert errors == []
        context.close()


def test_notify_me_says_when_notifications_are_blocked_and_hides_where_push_is_missing(
    browser: Any, notify_server: ServeProcess, notify_api: Api
) -> None:
    api = notify_api
    t = api.tournament()
    tid = t["tournament"]["id"]
    ours = api.team(t, "Hop Stars", "Aoife")
    team_id = ours["team"]["id"]
    blocked = phone(browser, notify_server.url, token=ours["token"], tournament_id=tid)
    page = blocked.new_page()
    browser_cdp = browser.new_browser_cdp_session()
    browser_cdp.send(
        "Browser.setPermission",
        {
            "permission": {"name": "notifications"},
            "setting": "denied",
            "origin": notify_server.url,
            "browserContextId": page.context.new_cdp_session(page).send("Target.getTargetInfo")[
                "targetInfo"
            ]["browserContextId"],
        },
    )
    page.goto(f"/t/{tid}/teams/{team_id}")
    box = page.locator("[data-notify]")
    expect(box).to_contain_text("Notifications are blocked for this site")
    expect(page.get_by_role("button", name="Notify me")).to_be_disabled()
    blocked.close()

    # A private window: the browser itself refuses to subscribe (Chromium, for real).
    private = phone(browser, notify_server.url, token=ours["token"], tournament_id=tid)
    private.grant_permissions(["notifications"], origin=notify_server.url)
    page = private.new_page()
    page.goto(f"/t/{tid}/teams/{team_id}")
    wait_for_service_worker(page)  # installed (its first visit pre-caches every asset)
    page.get_by_role("button", name="Notify me").click()
    expect(page.locator("[data-notify]")).to_contain_text(
        "This browser would not set up notifications here"
    )
    expect(page.get_by_role("button", name="Notify me")).to_be_enabled()
    assert api.call("GET", f"/tournaments/{tid}/push/subscriptions", ours["token"])["items"] == []
    private.close()

    # A browser without the Push API (an iPhone's Safari outside the home screen): no button.
    old = phone(browser, notify_server.url, token=ours["token"], tournament_id=tid)
    old.add_init_script("delete window.PushManager;")
    page = old.new_page()
    page.goto(f"/t/{tid}/teams/{team_id}")
    page.wait_for_load_state("networkidle")
    expect(page.locator("[data-notify]")).to_be_hidden()
    old.close()

    # Another team's page, and a guest: nothing to subscribe to there.
    other = api.team(t, "Foam Fighters", "Bram")
    guest = phone(browser, notify_server.url, token=ours["token"], tournament_id=tid)
    page = guest.new_page()
    page.goto(f"/t/{tid}/teams/{other['team']['id']}")
    assert page.locator("[data-notify]").count() == 0
    guest.close()


def test_an_organizer_adds_a_webhook_sees_its_secret_once_and_reads_its_delivery_log(
    browser: Any, notify_server: ServeProcess, notify_api: Api, screenshots: Path
) -> None:
    api = notify_api
    t = api.tournament()
    tid = t["tournament"]["id"]
    api.team(t, "Hop Stars", "Aoife")
    api.team(t, "Foam Fighters", "Bram")
    context = phone(
        browser,
        notify_server.url,
        token=t["token"],
        tournament_id=tid,
        viewport={"width": 360, "height": 740},
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"/t/{tid}/admin")
    section = page.locator("section.webhooks")
    expect(section).to_contain_text("No webhooks yet.")
    form = page.locator("#add-webhook")

    # What the server refuses comes back as its problem, shown in the form.
    form.get_by_label("The receiver's URL").fill("https://user:secret@example.com/hooks")
    form.get_by_role("button", name="Add the webhook").click()
    expect(form.locator(".form-error")).to_contain_text("must not carry a user name or password")
    for box in form.get_by_role("checkbox").all():
        box.uncheck()
    form.get_by_role("button", name="Add the webhook").click()
    expect(form.locator(".form-error")).to_contain_text("Pick at least one thing to send.")
    assert api.call("GET", f"/tournaments/{tid}/webhooks", t["token"]) == []

    # A receiver that is down for now (nothing listens on its port yet).
    receiver = Receiver()
    url = f"{receiver.url}/hooks/a-rather-long-path/that-must-wrap-on-a-phone?token=0123456789"
    form.get_by_label("The receiver's URL").fill(url)
    form.get_by_label("the tournament is finished").check()
    form.get_by_role("button", name="Add the webhook").click()
    secret_box = page.locator("#webhook-secret")
    secret_input = secret_box.get_by_label("Signing secret")
    expect(secret_input).to_be_visible()
    secret = secret_input.input_value()
    assert secret.startswith("whsec_")
    card = section.locator("article.hook")
    expect(card).to_contain_text(url)
    expect(card).to_contain_text("When the tournament is finished")
    expect(card.locator("[data-last-delivery]")).to_contain_text("none yet")
    [hook] = api.call("GET", f"/tournaments/{tid}/webhooks", t["token"])
    assert (hook["url"], hook["events"]) == (url, ["tournament.finished"])

    api.call("POST", f"/tournaments/{tid}/start", t["token"])
    api.call("POST", f"/tournaments/{tid}/finish", t["token"])
    eventually(
        lambda: api.call("GET", f"/tournaments/{tid}/webhooks", t["token"])[0]["next_retry"],
        within=15,
    )
    page.reload()
    last = page.locator("article.hook [data-last-delivery]")
    expect(last).to_contain_text("failed, will retry")
    expect(last).to_contain_text("tournament.finished")
    expect(last).to_contain_text("no connection")
    expect(last).to_contain_text("Next retry at")
    expect(secret_box).to_be_hidden()  # the secret was shown once
    assert secret not in page.content()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, f"the control room is {width} px wide"
    page.locator("article.hook summary", has_text="Delivery log").click()
    page.locator("section.webhooks").screenshot(path=screenshots / "control-webhooks-360.png")

    with serving(receiver):
        # The receiver is back: the next retry delivers it, and the open page shows it by
        # itself, its delivery log still open.
        expect(last).to_contain_text("delivered ✔", timeout=45_000)
        expect(last).not_to_contain_text("Next retry")
        log = page.locator("article.hook details")
        expect(log).to_have_attribute("open", "")
        expect(log.locator("li").first).to_contain_text("delivered ✔")
        [got] = receiver.received
    # The secret the page showed is the one deliveries are signed with.
    payload = Webhook(secret).verify(got.body, got.headers)
    assert payload["type"] == "tournament.finished"
    assert payload["data"]["tournament_id"] == tid

    page.once("dialog", lambda dialog: dialog.accept())
    card.get_by_role("button", name="Remove").click()
    expect(section).to_contain_text("No webhooks yet.")
    assert api.call("GET", f"/tournaments/{tid}/webhooks", t["token"]) == []
    assert errors == []
    context.close()


def test_the_control_room_says_urgent_announcements_buzz_the_phones(
    browser: Any, notify_server: ServeProcess, notify_api: Api
) -> None:
    api = notify_api
    t = api.tournament()
    tid = t["tournament"]["id"]
    ours = api.team(t, "Hop Stars", "Aoife")
    handset = Phone()
    with serving(Receiver(answer=lambda n: 201)) as push_service:
        api.call(
            "POST",
            f"/tournaments/{tid}/push/subscriptions",
            ours["token"],
            {"endpoint": f"{push_service.url}/push/aoife", "keys": handset.keys()},
        )
        context = phone(browser, notify_server.url, token=t["token"], tournament_id=tid)
        page = context.new_page()
        page.goto(f"/t/{tid}/admin")
        form = page.locator("form", has=page.get_by_label("How loud"))
        expect(form).to_contain_text("with notifications on (1 now)")
        form.get_by_label("Message").fill("Pizza's here! 🍕")
        form.get_by_label("How loud").select_option("urgent")
        form.get_by_role("button", name="Announce").click()
        expect(page.locator("#admin-anns")).to_contain_text("Pizza's here!")
        [got] = eventually(lambda: push_service.received, within=20)
        pushed = handset.decrypt(got.body)
        assert pushed["body"] == "Pizza's here! 🍕"
        assert pushed["urgent"] is True
        assert pushed["url"] == f"/t/{tid}"
        context.close()
