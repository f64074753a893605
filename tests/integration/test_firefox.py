"""Firefox reads the live frames compressed against the ones before them (permessage-deflate,
``web/wire.py``), and Server-Sent Events gzipped: Debian's Firefox ESR, driven by
puppeteer-core over WebDriver BiDi (``tests/firefox/frames.mjs``), against a real server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.conftest import firefox_js
from tests.factories import make_settings
from tests.integration.test_live import running, setup_tournament


async def test_firefox_decodes_every_frame_compressed(tmp_path: Path) -> None:
    node, folder, firefox = firefox_js()
    # Heartbeats (uncompressed) every second, between frames compressed against the ones
    # before them; a snapshot of the 24 teams' states (compressed for this socket alone).
    settings = make_settings(tmp_path, live_window_ms=100, live_heartbeat=1)
    async with running(settings) as s:
        await setup_tournament(s, teams=24)
        token = s.org["Authorization"].removeprefix("Bearer ")
        options = {"firefox": str(firefox), "base": s.base, "tournament": s.tid, "token": token}
        process = await asyncio.create_subprocess_exec(
            node,
            str(folder / "frames.mjs"),
            json.dumps(options),
            cwd=folder,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(120):
            out, err = await process.communicate()
        assert process.returncode == 0, err.decode()
    read = json.loads(out)
    assert read["version"].startswith("firefox/")
    assert read["extensions"].startswith("permessage-deflate")
    assert read["failures"] == []
    assert read["live"] == "live"
    types = [m["type"] for m in read["seen"]]
    assert types[:3] == ["welcome", "subscribed", "snapshot"]
    assert "heartbeat" in types
    said = [
        m["announcement"]["message"]
        for frame in read["seen"]
        if frame["type"] == "frame"
        for m in frame["messages"]
        if m["kind"] == "announcement"
    ]
    assert said == read["sent"]
    # Bursts share frames: fewer frames than announcements.
    assert types.count("frame") < len(said)
    # Server-Sent Events, gzipped: every announcement, in order, the stream still open.
    assert read["encoding"] == "gzip"
    assert read["sse"] == read["sent"]
    assert read["sseOpen"]
