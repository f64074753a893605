"""``/api/v1/tournaments/{id}/jobs``: the tournament's background jobs, for its organizers.

The dead-letter list is ``?status=dead``: jobs that failed every attempt. An organizer sends
one back to the queue with ``POST …/jobs/{job_id}/retry``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Request, Response, Router, get, post
from litestar.params import PathParameter, QueryParameter

from beerolympics.projections.jobs import JobView, job_view
from beerolympics.projections.views import Page
from beerolympics.web.api.tournaments import ERRORS, SECURITY, Cursor, Limit, TournamentId
from beerolympics.web.context import actor, runtime
from beerolympics.web.http import decode_cursor, encode_cursor, json_response

JobId = Annotated[str, PathParameter(max_length=40, description="The job's id.")]
Status = Annotated[
    Literal["queued", "running", "retrying", "succeeded", "dead"] | None,
    QueryParameter(description="Only jobs in this state (`dead`: the dead-letter list)."),
]


@get("/", summary="Background jobs", tags=["jobs"], security=SECURITY, responses=ERRORS)
async def list_jobs(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    status: Status = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response[Page[JobView]]:
    """Organizers only; newest first."""
    found = runtime(request).jobs.of(tournament_id, actor(request, tournament_id))
    shown = [j for j in found if status is None or j.status == status]
    before = decode_cursor(cursor)
    rest = [j for j in shown if before is None or j.position < before]
    page = rest[:limit]
    return json_response(
        Page(
            items=[job_view(j) for j in page],
            next_cursor=encode_cursor(page[-1].position) if len(rest) > limit else None,
            total=len(shown),
        )
    )


@post(
    "/{job_id:str}/retry",
    summary="Retry a dead job",
    tags=["jobs"],
    status_code=202,
    security=SECURITY,
    responses=ERRORS,
)
async def retry_job(
    request: Request[Any, Any, Any], tournament_id: TournamentId, job_id: JobId
) -> Response[JobView]:
    """Organizers only: a job in the dead-letter list gets a fresh set of attempts."""
    state = await runtime(request).jobs.retry(tournament_id, job_id, actor(request, tournament_id))
    return json_response(job_view(state), status=202)


router = Router(path="/tournaments/{tournament_id:str}/jobs", route_handlers=[list_jobs, retry_job])
