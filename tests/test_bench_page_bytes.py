"""The page-bytes bench counts Chromium's network events the way its docstring says."""

from __future__ import annotations

from bench.page_bytes import Tally


def test_tally_counts_frames_and_finished_responses_by_url() -> None:
    tally = Tally()
    tally.frame({"response": {"payloadData": '{"type":"frame","é":1}'}})
    tally.sent({"requestId": "1", "request": {"url": "http://h/t/x/leaderboard"}})
    tally.sent({"requestId": "2", "request": {"url": "http://h/t/x/tv"}})
    tally.finished({"requestId": "2", "encodedDataLength": 700})
    assert tally.snapshot() == (len('{"type":"frame","é":1}'.encode()), 700, 1)
    tally.finished({"requestId": "1", "encodedDataLength": 300.0})
    assert tally.snapshot()[1:] == (1000, 2)
    assert tally.urls == ["http://h/t/x/tv", "http://h/t/x/leaderboard"]
