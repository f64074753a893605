"""A page's regions, their versions, and the answer that sends only the regions that changed.

Every element with ``data-region`` and an ``id`` is a region. Its version is a hash of its own
markup in which each region nested in it counts by its id and version, not by its content:
a change inside a nested region changes that region's version and its ancestors', but their
own markup (their *frame*) stays the same, so only the nested one needs to be sent. The
outermost regions carry their version as ``data-v``.

A page refreshing itself sends ``X-Regions: <build> <id>=<version> …`` (its outermost regions;
``<id>=-`` for one it keeps up to date by itself). The answer (``answer``) is JSON: for each
outermost region that changed, its new version and the patches that make what the page holds
of it the current region, in document order (a region before the regions nested in it) —
``{id: [version, [patch, …]]}``:

- ``[id, html]``: replace the region by this markup. A ``<tag data-keep="id2">`` in it stands for
  the page's own region ``id2`` (moved there as it is; a later patch may change it).
- ``[id, html, 1]``: the same, but only what is inside the region (its start tag is the same).
- ``[id, runs]``: the region's frame is the same; its nested regions are now these, in order
  (the page moves its own regions there): ``[start, length]`` is that slice of those it had,
  a string the id of one of the page's regions from elsewhere, or (starting with ``<``) the
  markup of a region new to it.

or no answer (the page is sent ``204``) when nothing the page holds changed. Versions are
content hashes, so the versions of the regions a page holds are looked up among the regions
recently rendered (``Regions``): a version no longer known is sent whole. Answers never reach
a cache as the page: they are ``no-store`` and vary on the header.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import re
import sys
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Final

import msgspec

#: The request header a page sends its regions' versions in.
HEADER: Final = "X-Regions"
#: A longer header is not read (the page is sent whole).
MAX_HEADER: Final = 4096
_ATTR = re.compile(r"""\s([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_MARK = "data-region"
_TOKEN = re.compile(r"^([^\s=]{1,200})=([A-Za-z0-9_-]{1,32})$")
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class Node:
    """A region as rendered: what is needed to tell what changed in it since."""

    id: str
    version: str
    #: A hash of its own markup with its nested regions left out (not even their ids).
    shape: str
    #: A hash of its start tag.
    head: str
    kids: tuple[str, ...]
    kid_versions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Span:
    id: str
    tag: str
    start: int
    open_end: int  # just after the start tag's ">"
    end: int
    kids: list[_Span]


def _hash(*parts: str) -> str:
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=6).digest()
    return base64.urlsafe_b64encode(digest).decode()


def _attrs(text: str) -> dict[str, str]:
    return {m[1].lower(): m[2] or m[3] or m[4] or "" for m in _ATTR.finditer(text)}


_closers: dict[str, re.Pattern[str]] = {}


def _end(html: str, tag: str, start: int) -> int:
    """Where the element whose start tag ends at ``start`` ends (-1 when it does not)."""
    pattern = _closers.get(tag)
    if pattern is None:
        pattern = _closers[tag] = re.compile(rf"<(/?){tag}[\s>/]")
    depth = 1
    for m in pattern.finditer(html, start):
        depth += -1 if m[1] else 1
        if depth == 0:
            close = html.find(">", m.start())
            return -1 if close < 0 else close + 1
    return -1


def _spans(html: str) -> list[_Span]:
    """The outermost regions of a page, each with the regions nested in it.

    Templates autoescape what people type (no ``<`` or ``>`` in text or attribute values), so
    tags are found by their brackets; a ``data-region`` in text or in an attribute's value is not
    taken for the attribute.
    """
    found: list[_Span] = []
    at = html.find(_MARK)
    while at >= 0:
        lt = html.rfind("<", 0, at)
        gt = html.find(">", at)
        if lt >= 0 and gt > 0 and html.find(">", lt, at) < 0:
            tag_match = re.match(r"<([a-z][a-z0-9]*)", html[lt:at])
            if tag_match is not None:
                tag = tag_match[1]
                attrs = _attrs(html[lt + len(tag) + 1 : gt])
                if _MARK in attrs and attrs.get("id"):
                    end = _end(html, tag, gt + 1)
                    if end < 0:
                        raise ValueError(f"region {attrs['id']} is not closed")
                    found.append(_Span(attrs["id"], tag, lt, gt + 1, end, []))
        at = html.find(_MARK, at + len(_MARK))
    top: list[_Span] = []
    stack: list[_Span] = []
    for span in found:
        while stack and stack[-1].end <= span.start:
            stack.pop()
        (stack[-1].kids if stack else top).append(span)
        stack.append(span)
    return top


@dataclass(slots=True)
class Page:
    """A rendered page with its regions: the markup (outermost regions with ``data-v``), each
    region's node and where it is."""

    html: str
    nodes: dict[str, Node] = field(default_factory=dict)
    spans: dict[str, _Span] = field(default_factory=dict)
    top: list[str] = field(default_factory=list)
    answers: OrderedDict[str, bytes | None] = field(default_factory=OrderedDict)
    #: Whether it links a compression dictionary for its answers (``dictionaries.py``): not for
    #: a page that keeps its regions up to date itself and seldom asks.
    dictionary: bool = True


def index(html: str) -> Page:
    """The page with its regions versioned (a page whose regions cannot be told apart has none:
    it is always sent whole)."""
    try:
        top = _spans(html)
    except ValueError:
        return Page(html)
    ids: set[str] = set()
    nodes: dict[str, Node] = {}

    def visit(span: _Span) -> Node:
        kids = [visit(k) for k in span.kids]
        parts: list[str] = []
        at = span.start
        for k in span.kids:
            parts.append(html[at : k.start])
            at = k.end
        parts.append(html[at : span.end])
        shape = _hash(*parts)
        node = Node(
            span.id,
            _hash(shape, *(k.id for k in kids), *(k.version for k in kids)),
            shape,
            _hash(html[span.start : span.open_end]),
            tuple(k.id for k in kids),
            tuple(k.version for k in kids),
        )
        if span.id in ids:
            raise ValueError(f"region {span.id} twice")
        ids.add(span.id)
        nodes[span.id] = node
        return node

    try:
        tops = [visit(span) for span in top]
    except ValueError:
        return Page(html)
    # The outermost regions say their version: everything after each insertion moves along.
    points: list[int] = []
    added: list[int] = []
    out: list[str] = []
    at = 0
    for span, node in zip(top, tops, strict=True):
        insert = f' data-v="{node.version}"'
        out += [html[at : span.open_end - 1], insert]
        at = span.open_end - 1
        points.append(at)
        added.append(len(insert) + (added[-1] if added else 0))
    out.append(html[at:])

    def shifted(offset: int) -> int:
        before = bisect.bisect_left(points, offset)
        return offset + (added[before - 1] if before else 0)

    spans: dict[str, _Span] = {}

    def move(span: _Span) -> _Span:
        new = _Span(
            span.id,
            span.tag,
            shifted(span.start),
            shifted(span.open_end),
            shifted(span.end),
            [move(k) for k in span.kids],
        )
        spans[span.id] = new
        return new

    for span in top:
        move(span)
    return Page("".join(out), nodes, spans, [n.id for n in tops])


class Regions:
    """Regions recently rendered, by version (an LRU), and pages recently rendered, by what
    names them (the host, path, query and the page's ETag: its build, position and viewer) —
    rendered once however many phones ask, kept up to ``max_bytes`` of markup in memory."""

    def __init__(self, max_nodes: int = 100_000, max_bytes: int = 64 << 20) -> None:
        self._nodes: OrderedDict[str, Node] = OrderedDict()
        self._max_nodes = max_nodes
        self._pages: OrderedDict[Hashable, Page] = OrderedDict()
        self._bytes = 0
        self._max_bytes = max_bytes

    def page(self, key: Hashable) -> Page | None:
        found = self._pages.get(key)
        if found is not None:
            self._pages.move_to_end(key)
        return found

    def keep(self, key: Hashable, page: Page) -> None:
        for node in page.nodes.values():
            self._nodes[node.version] = node
            self._nodes.move_to_end(node.version)
        while len(self._nodes) > self._max_nodes:
            self._nodes.popitem(last=False)
        if key in self._pages:
            self._bytes -= sys.getsizeof(self._pages.pop(key).html)
        self._pages[key] = page
        # In memory: a page with an emoji takes four bytes a character.
        self._bytes += sys.getsizeof(page.html)
        while self._bytes > self._max_bytes and len(self._pages) > 1:
            _, old = self._pages.popitem(last=False)
            self._bytes -= sys.getsizeof(old.html)

    def node(self, version: str) -> Node | None:
        return self._nodes.get(version)


def held(header: str, build: str) -> dict[str, str] | None:
    """The versions a page says it holds (``-``: one it keeps itself), or None when the header
    is not one to answer with regions (another build, too long, not well formed)."""
    if len(header) > MAX_HEADER:
        return None
    words = header.split()
    if not words or words[0] != build:
        return None
    versions: dict[str, str] = {}
    for word in words[1:]:
        if word.endswith("=-"):
            versions[word[:-2]] = "-"
            continue
        m = _TOKEN.match(word)
        if m is None:
            return None
        versions[m[1]] = m[2]
    return versions


def answer(page: Page, holding: dict[str, str], regions: Regions) -> bytes | None:
    """The JSON that brings a page holding ``holding`` up to ``page``, or None: nothing to do."""
    key = " ".join(f"{k}={v}" for k, v in sorted(holding.items()))
    if key in page.answers:
        return page.answers[key]
    body = _answer(page, holding, regions)
    page.answers[key] = body
    if len(page.answers) > 64:
        page.answers.popitem(last=False)
    return body


def _answer(page: Page, holding: dict[str, str], regions: Regions) -> bytes | None:
    patches: list[tuple[object, ...]] = []
    out: dict[str, tuple[str, list[tuple[object, ...]]]] = {}
    everywhere: dict[str, str] | None = None

    def anywhere(region: str) -> str | None:
        """The version of a region the page holds anywhere (it may have moved)."""
        nonlocal everywhere
        if everywhere is None:
            everywhere = {}
            todo = [(k, v) for k, v in holding.items() if v != "-"]
            while todo:
                rid, version = todo.pop()
                everywhere[rid] = version
                node = regions.node(version)
                if node is not None:
                    todo.extend(zip(node.kids, node.kid_versions, strict=True))
        return everywhere.get(region)

    def diff(node: Node, version: str) -> None:
        if node.version == version or holding.get(node.id) == "-":
            return
        old = regions.node(version)
        if old is None:
            patches.append((node.id, _markup(page, node.id, {})))
            return
        if old.shape == node.shape and old.kids == node.kids:
            for kid, kid_version in zip(node.kids, old.kid_versions, strict=True):
                diff(page.nodes[kid], kid_version)
            return
        theirs = dict(zip(old.kids, old.kid_versions, strict=True))
        kept: dict[str, str] = {}
        for kid in node.kids:
            found = theirs.get(kid) or anywhere(kid)
            if found is not None:
                kept[kid] = found
        if old.shape == node.shape:
            runs = _runs(
                old.kids, node.kids, lambda kid: None if kid in kept else _markup(page, kid, {})
            )
            patches.append((node.id, runs))
        elif old.head == node.head:
            patches.append((node.id, _markup(page, node.id, kept, inner=True), 1))
        else:
            patches.append((node.id, _markup(page, node.id, kept)))
        for kid, kid_version in kept.items():
            diff(page.nodes[kid], kid_version)

    for rid in page.top:
        version = holding.get(rid)
        if version is None or version == "-":
            continue  # a page without this region has nowhere to put it
        node = page.nodes[rid]
        if node.version != version:
            patches = []
            diff(node, version)
            out[rid] = (node.version, patches)
    return _encoder.encode(out) if out else None


def _runs(
    old: tuple[str, ...], new: tuple[str, ...], markup: Callable[[str], str | None]
) -> list[object]:
    """``new`` as runs of ``old``: ``[start, length]`` a slice of it, a string the id of one
    held elsewhere or the markup of a new one."""
    where = {kid: i for i, kid in enumerate(old)}
    out: list[object] = []
    for kid in new:
        i = where.get(kid)
        last = out[-1] if out else None
        if i is None:
            out.append(markup(kid) or kid)
        elif isinstance(last, list) and last[0] + last[1] == i:
            last[1] += 1
        else:
            out.append([i, 1])
    return out


def _markup(page: Page, rid: str, kept: dict[str, str], *, inner: bool = False) -> str:
    """A region's markup (``inner``: only what is inside it), each nested region in ``kept`` as
    a placeholder for the page's own."""
    span = page.spans[rid]
    start, end = span.start, span.end
    if inner:
        start, end = span.open_end, page.html.rfind("</", start, end)
    if not kept:
        return page.html[start:end]
    parts: list[str] = []
    at = start
    for k in span.kids:
        if k.id in kept:
            parts += [page.html[at : k.start], f'<{k.tag} data-keep="{k.id}"></{k.tag}>']
            at = k.end
    parts.append(page.html[at:end])
    return "".join(parts)
