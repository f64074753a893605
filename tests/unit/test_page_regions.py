"""A page's regions: versions that count nested regions by id, and answers that send only what
changed (``web/pages/regions.py``)."""

from __future__ import annotations

import json
import re

from beerolympics.web.pages.regions import Regions, answer, held, index

BUILD = "b1"


def board(tables: dict[str, tuple[str, str]], title: str = "Tables") -> str:
    """A page shaped like a station board: a table per card, its next match keyed by the match."""
    cards = "".join(
        f'<li class="station" data-region id="st-{t}"><h3>{t}</h3><p>now {now}</p>'
        f'<p class="next" data-region id="nx-{nxt}">next {nxt}</p></li>'
        for t, (now, nxt) in tables.items()
    )
    return (
        f'<body><h1>{title}</h1><div data-region="stations" id="stations"><ul>{cards}</ul></div>'
        '<p data-region id="status">live</p></body>'
    )


def versions(html: str) -> dict[str, str]:
    return dict(re.findall(r'id="([^"]+)" data-v="([^"]+)"', html))


def ask(regions: Regions, before: str, after: str, **skip: str) -> dict[str, object] | None:
    """What a page showing ``before`` is sent once the page is ``after``."""
    old = index(before)
    regions.keep(("p", 1), old)
    new = index(after)
    regions.keep(("p", 2), new)
    body = answer(new, {**versions(old.html), **skip}, regions)
    return None if body is None else json.loads(body)


def test_outermost_regions_carry_their_version_and_nothing_else_changes() -> None:
    html = board({"t1": ("a", "b")})
    page = index(html)
    assert re.sub(r' data-v="[^"]+"', "", page.html) == html
    assert set(versions(page.html)) == {"stations", "status"}
    assert page.top == ["stations", "status"]
    assert set(page.nodes) == {"stations", "st-t1", "nx-b", "status"}


def test_a_change_inside_a_nested_region_sends_only_that_region() -> None:
    regions = Regions()
    before = board({"t1": ("a", "b"), "t2": ("c", "d")})
    after = board({"t1": ("a", "b"), "t2": ("e", "d")})
    got = ask(regions, before, after)
    assert got is not None
    version, patches = got["stations"]  # type: ignore[misc]
    assert version == versions(index(after).html)["stations"]
    # t2's own markup changed (not its start tag: only what is inside it is sent); its next
    # match is the page's own, kept where it is.
    assert patches == [["st-t2", '<h3>t2</h3><p>now e</p><p data-keep="nx-d"></p>', 1]]
    assert "status" not in got


def test_next_matches_moving_between_tables_are_moved_not_sent() -> None:
    regions = Regions()
    before = board({"t1": ("a", "m1"), "t2": ("b", "m2"), "t3": ("c", "m3")})
    after = board({"t1": ("a", "m2"), "t2": ("b", "m3"), "t3": ("c", "m4")})
    got = ask(regions, before, after)
    assert got is not None
    _, patches = got["stations"]  # type: ignore[misc]
    assert patches[:2] == [["st-t1", ["nx-m2"]], ["st-t2", ["nx-m3"]]]
    # m4 is new to the page: it comes whole.
    assert patches[2][0] == "st-t3"
    assert patches[2][1] == ['<p class="next" data-region id="nx-m4">next m4</p>']
    assert len(patches) == 3


def test_regions_that_only_moved_are_said_as_runs_of_those_the_page_had() -> None:
    regions = Regions()

    def rows(order: str) -> str:
        cells = "".join(f'<tr data-region id="r{c}"><td>{c}</td></tr>' for c in order)
        return f'<table data-region id="t"><tbody>{cells}</tbody></table>'

    got = ask(regions, rows("abcdef"), rows("aebcdf"))
    assert got is not None
    assert got["t"][1] == [["t", [[0, 1], [4, 1], [1, 3], [5, 1]]]]  # type: ignore[index]
    got = ask(regions, rows("abcdef"), rows("abcdeg"))
    assert got is not None
    # A new one comes whole among them.
    new = '<tr data-region id="rg"><td>g</td></tr>'
    assert got["t"][1] == [["t", [[0, 5], new]]]  # type: ignore[index]


def test_nothing_changed_is_no_answer_and_a_kept_region_is_never_sent() -> None:
    regions = Regions()
    html = board({"t1": ("a", "b")})
    assert ask(regions, html, html) is None
    changed = board({"t1": ("x", "b")})
    assert ask(regions, html, changed, stations="-") is None


def test_a_version_no_longer_known_gets_the_region_whole() -> None:
    regions = Regions()
    new = index(board({"t1": ("a", "b")}))
    regions.keep(("p", 2), new)
    got = json.loads(answer(new, {"stations": "AAAAAAAA", "status": "AAAAAAAA"}, regions) or b"")
    assert got["stations"][1] == [
        ["stations", new.html[new.html.index("<div") : new.html.index("</div>") + 6]]
    ]
    assert got["status"][1][0][0] == "status"


def test_a_header_from_another_build_or_garbage_is_not_read() -> None:
    assert held(f"{BUILD} stations=AbC_-123 status=-", BUILD) == {
        "stations": "AbC_-123",
        "status": "-",
    }
    for header in ("", "other stations=abc", f"{BUILD} stations", f"{BUILD} x=<y>", "x" * 5000):
        assert held(header, BUILD) is None


def test_markup_that_only_mentions_data_region_is_not_a_region() -> None:
    html = (
        '<div data-region id="a"><span title=" data-region id=&#34;x&#34;">data-region</span>'
        '<i data-region id="b">1</i></div>'
    )
    page = index(html)
    assert set(page.nodes) == {"a", "b"}


def test_a_page_whose_regions_cannot_be_told_apart_has_none() -> None:
    assert index('<div data-region id="a"><p data-region id="a">x</p></div>').nodes == {}
    assert index('<div data-region id="a">never closed').nodes == {}


def test_the_answer_for_the_same_versions_is_made_once() -> None:
    regions = Regions()
    page = index(board({"t1": ("a", "b")}))
    regions.keep(("p", 1), page)
    holding = {"stations": "AAAAAAAA"}
    assert answer(page, holding, regions) is answer(page, dict(holding), regions)


def test_pages_kept_stay_under_their_budget() -> None:
    regions = Regions(max_bytes=10_000)
    for n in range(50):
        regions.keep(("p", n), index(board({f"t{n}": ("a" * 500, "b")})))
    assert regions.page(("p", 0)) is None
    assert regions.page(("p", 49)) is not None
