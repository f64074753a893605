"""Pages' compression dictionaries (``web/pages/dictionaries.py``): one per page and viewer,
reused for a while, bounded in memory, and ``dcz`` bodies that Zstandard decodes with them."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
import zstandard

from beerolympics.web.pages import dictionaries as module
from beerolympics.web.pages.dictionaries import COMPRESSORS, DCZ_HEADER, Dictionaries


def _name(link: str | None) -> str:
    assert link is not None
    return link.partition("/dictionaries/")[2].partition("?")[0]


def test_a_page_and_viewer_share_one_dictionary_until_it_is_old(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    kept = Dictionaries()
    first = _name(kept.link(("/t/cup", "anon"), "/t/cup", "<p>one</p>"))
    # A later rendering (another position) links the same dictionary…
    assert _name(kept.link(("/t/cup", "anon"), "/t/cup", "<p>two</p>")) == first
    # …another viewer's page its own, made from what that viewer is shown…
    other = _name(kept.link(("/t/cup", "tm_a"), "/t/cup", "<p>captain</p>"))
    assert other != first
    found = kept.named(other)
    assert found is not None
    assert json.loads(found.data) == "<p>captain</p>"
    # …and once it is old, a newer one is made from the page as it is now.
    now[0] += module.REUSE + 1
    newer = _name(kept.link(("/t/cup", "anon"), "/t/cup", "<p>three</p>"))
    assert newer != first
    assert kept.named(newer) is not None
    assert kept.link(("odd", "anon"), "/t/cup/{x}", "<p></p>") is None  # no pattern syntax


def test_memory_stays_bounded_and_answers_decode_with_their_dictionary() -> None:
    kept = Dictionaries(max_bytes=10_000)
    names = [
        _name(kept.link((f"/t/{i}", "anon"), f"/t/{i}", f"<p>{i}</p>" + "x" * 3000))
        for i in range(5)
    ]
    assert [kept.named(n) is not None for n in names] == [False, False, True, True, True]
    last = kept.named(names[-1])
    assert last is not None
    header = f":{base64.b64encode(last.digest).decode()}:"
    assert kept.available(header) == last
    assert kept.available(":" + "A" * 44 + ":") is None
    assert kept.available("not a hash") is None
    answer = json.dumps({"stations": ["v", [["st-1", "<p>4</p>" + "x" * 100]]]}).encode()
    body = kept.compress(last, answer)
    assert body[:8] == DCZ_HEADER
    assert body[8:40] == hashlib.sha256(last.data).digest()
    prefix = zstandard.ZstdCompressionDict(last.data, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    assert zstandard.ZstdDecompressor(dict_data=prefix).decompress(body[40:]) == answer
    assert len(body) - 40 < len(answer) / 2  # (the markup is in the dictionary)
    many = Dictionaries()
    for i in range(COMPRESSORS + 5):
        found = many.named(_name(many.link((i, "anon"), f"/t/{i}", f"<p>{i}</p>")))
        assert found is not None
        many.compress(found, b"{}")
    assert len(many._compressors) == COMPRESSORS
