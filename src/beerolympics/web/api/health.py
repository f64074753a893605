"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get

from beerolympics.domain.errors import Unavailable
from beerolympics.ports.eventstore import StoreUnavailable
from beerolympics.ports.jobqueue import JobQueueUnavailable
from beerolympics.ports.pubsub import PubSubError
from beerolympics.web.context import runtime
from beerolympics.web.http import json_response


class Health(msgspec.Struct, frozen=True, omit_defaults=True):
    status: str
    position: int | None = None


@get("/healthz", summary="The process is up", tags=["operations"], include_in_schema=True)
async def healthz() -> Response[Health]:
    return json_response(Health("ok"), cache_control="no-store")


@get("/readyz", summary="The backends answer", tags=["operations"])
async def readyz(request: Request[Any, Any, Any]) -> Response[Health]:
    """503 while the event store is unreachable."""
    rt = runtime(request)
    try:
        await rt.store.ping()
    except StoreUnavailable as exc:
        raise Unavailable(f"event store: {exc}", code="store_unavailable") from exc
    try:
        await rt.pubsub.ping()
    except PubSubError as exc:
        raise Unavailable(f"backplane: {exc}", code="pubsub_unavailable") from exc
    try:
        await rt.job_queue.ping()
    except JobQueueUnavailable as exc:
        raise Unavailable(f"job queue: {exc}", code="job_queue_unavailable") from exc
    if rt.projector.failed is not None:
        raise Unavailable("the read model stopped after an error", code="projection_failed")
    return json_response(Health("ready", rt.projector.position), cache_control="no-store")
