"""Notifications' pure parts: Standard Webhooks signatures (the spec's test vector), where
deliveries may go, what a push subscription must look like, and stable ids."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress

import pytest

from beerolympics.domain.errors import Invalid
from beerolympics.domain.notifications import (
    Subscribe,
    SubscriptionKeys,
    check_subscription,
    check_url,
    digest_id,
    new_webhook_secret,
    refusal,
    subscription_id,
)
from beerolympics.notify.webhooks import signed_headers
from tests.receivers import Phone

# The test vector of the Standard Webhooks libraries.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
PAYLOAD = b'{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signatures_match_the_standard_webhooks_test_vector() -> None:
    at = dt.datetime.fromtimestamp(TIMESTAMP, dt.UTC)
    headers = signed_headers(SECRET, MSG_ID, at, PAYLOAD)
    assert headers == {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(TIMESTAMP),
        "webhook-signature": EXPECTED,
    }
    # The same by hand: HMAC-SHA256 of "id.timestamp.body" keyed with the base64 secret.
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    digest = hmac.new(key, f"{MSG_ID}.{TIMESTAMP}.".encode() + PAYLOAD, hashlib.sha256).digest()
    assert "v1," + base64.b64encode(digest).decode() == EXPECTED
    # A time in another zone is the same instant.
    local = at.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    assert signed_headers(SECRET, MSG_ID, local, PAYLOAD) == headers


def test_new_secrets_are_whsec_and_32_random_bytes() -> None:
    first, second = new_webhook_secret(), new_webhook_secret()
    assert first != second
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32


@pytest.mark.parametrize(
    ("address", "private_ok", "refused"),
    [
        ("93.184.216.34", False, None),
        ("2606:4700::1111", False, None),
        ("192.168.1.20", False, "private"),
        ("192.168.1.20", True, None),
        ("10.0.0.5", True, None),
        ("127.0.0.1", False, "private"),
        ("127.0.0.1", True, None),
        ("::1", True, None),
        ("::ffff:127.0.0.1", False, "private"),
        ("100.64.0.1", False, "private"),
        ("fd00::1", True, None),
        ("169.254.169.254", True, "link-local"),
        ("::ffff:169.254.169.254", True, "link-local"),
        ("fe80::1", True, "link-local"),
        ("0.0.0.0", True, "not a unicast"),  # noqa: S104
        ("224.0.0.1", True, "not a unicast"),
        ("240.0.0.1", True, "not a unicast"),
    ],
)
def test_where_deliveries_may_go(address: str, private_ok: bool, refused: str | None) -> None:
    reason = refusal(ipaddress.ip_address(address), allow_private=private_ok)
    if refused is None:
        assert reason is None
    else:
        assert reason is not None
        assert refused in reason


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.org/x",
        "javascript:alert(1)",
        "https:///x",
        "https://u:p@hooks.example.org/",
        "https://hooks.example.org/#frag",
        "https://hooks.example.org:0/",
        "https://hooks.example.org:70000/",
        "https://hooks.example.org/a b",
        "https://[::1/",
    ],
)
def test_webhook_urls_are_absolute_http_urls_without_credentials(url: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_url(url)
    assert refused.value.code == "invalid_webhook_url"


def test_a_subscription_must_be_what_a_browser_gives() -> None:
    phone = Phone()
    good = Subscribe(
        endpoint="https://push.example.net/send/abc", keys=SubscriptionKeys(**phone.keys())
    )
    check_subscription(good, allow_plain_http=False)
    plain = Subscribe(endpoint="http://192.168.1.9/push/abc", keys=good.keys)
    with pytest.raises(Invalid):
        check_subscription(plain, allow_plain_http=False)
    check_subscription(plain, allow_plain_http=True)
    not_a_point = "BA" + "A" * 85  # 0x04 then zeros: not on the curve
    for keys in (
        SubscriptionKeys(p256dh=not_a_point, auth=phone.keys()["auth"]),
        SubscriptionKeys(p256dh="A" * 87, auth=phone.keys()["auth"]),
        SubscriptionKeys(p256dh=phone.keys()["p256dh"], auth="A" * 24),
    ):
        with pytest.raises(Invalid) as refused:
            check_subscription(Subscribe(endpoint=good.endpoint, keys=keys), allow_plain_http=False)
        assert refused.value.code == "invalid_subscription"


def test_ids_made_from_parts_are_stable_and_distinct() -> None:
    assert digest_id("jb", "41", "ps_a") == digest_id("jb", "41", "ps_a")
    assert digest_id("jb", "41", "ps_a") != digest_id("jb", "42", "ps_a")
    assert digest_id("jb", "4", "1ps_a") != digest_id("jb", "41", "ps_a")
    assert subscription_id("cup", "https://p/1") != subscription_id("other", "https://p/1")
    assert len(digest_id("jb", "x")) == len("jb_") + 12
