"""Commands and reads through the whole HTTP stack, in-process (ASGI, no socket).

Measures a write command (PATCH a tournament, with a bearer token and an idempotency key) and
the public read of the same tournament answered 200 and 304, on the memory and SQLite stores.

    python -m bench.http_stack [--requests 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time

import msgspec

from beerolympics.app import create_app
from beerolympics.settings import Settings
from bench.asgi import call
from bench.common import summary_ms, table


async def measure(backend: str, requests: int) -> list[list[object]]:
    with tempfile.TemporaryDirectory() as tmp:
        url = "memory://" if backend == "memory" else f"sqlite:///{tmp}/bench.db"
        settings = Settings.load(
            {
                "data_dir": tmp,
                "database_url": url,
                "secret_key": "b",
                # One organizer sends every command: measure the stack, not the rate limit.
                "rate_limit_api": "100000000/minute",
            },
            environ={},
        )
        app = create_app(settings)
        rows: list[list[object]] = []
        async with app.lifespan():
            created = await call(app, "POST", "/api/v1/tournaments", body=b'{"name": "Bench Cup"}')
            body = msgspec.json.decode(created.body)
            tid, token = body["tournament"]["id"], body["token"]
            auth = {"authorization": f"Bearer {token}"}
            latencies = []
            for i in range(requests):
                started = time.perf_counter()
                reply = await call(
                    app,
                    "PATCH",
                    f"/api/v1/tournaments/{tid}",
                    body=b'{"venue": "Table %d"}' % i,
                    headers={**auth, "idempotency-key": f"k{i}"},
                )
                latencies.append(time.perf_counter() - started)
                assert reply.status == 200, reply.body
            rows.append(
                [
                    backend,
                    "PATCH command",
                    requests,
                    f"{requests / sum(latencies):,.0f}",
                    summary_ms(latencies),
                ]
            )
            for label, extra in (("GET 200", {}), ("GET 304", None)):
                first = await call(app, "GET", f"/api/v1/tournaments/{tid}")
                headers = {} if extra is not None else {"if-none-match": first.headers["etag"]}
                latencies = []
                for _ in range(requests):
                    started = time.perf_counter()
                    reply = await call(app, "GET", f"/api/v1/tournaments/{tid}", headers=headers)
                    latencies.append(time.perf_counter() - started)
                expected = 200 if extra is not None else 304
                assert reply.status == expected
                rows.append(
                    [
                        backend,
                        label,
                        requests,
                        f"{requests / sum(latencies):,.0f}",
                        summary_ms(latencies),
                    ]
                )
        return rows


async def main(requests: int) -> None:
    rows = []
    for backend in ("memory", "sqlite"):
        rows += await measure(backend, requests)
    print("the full HTTP stack in-process (one client at a time)")
    print(table(["store", "request", "count", "req/s", "latency"], rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=5000)
    asyncio.run(main(parser.parse_args().requests))
