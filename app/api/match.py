"""``POST /match``: an investor requirement in, a ranked and explained short list out;
``GET /match/presets``: the activity presets a form can offer."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from app.accounts.auth import Principal
from app.accounts.ratelimit import hit
from app.api.params import ReportDay
from app.api.queues import admitted, queue
from app.api.responses import OrjsonResponse, attachment, error_responses
from app.api.security import SESSION_COOKIE, StaffDep, caller_key, client_ip, require_reader
from app.core.database import ReadSessionDep, SessionDep
from app.core.settings import limit_settings
from app.scouting import demand
from app.scouting.matching import match
from app.scouting.requirements import Requirement, load_presets, resolve


def _has_credentials(request: Request) -> bool:
    return bool(request.headers.get("authorization") or request.headers.get("x-api-key")
                or request.cookies.get(SESSION_COOKIE))


async def _count_area(request: Request, session: Session, who: str) -> None:
    limits = limit_settings()
    await admitted(request, hit, session, f"match-area:{who}", limits.area_matches, limits.window_seconds)
    request.state.area_counted = True


class AreaAdmissionRoute(APIRoute):
    """A requirement with an area of interest sent without credentials is counted against
    the area limit by address from its raw bytes, before FastAPI decodes and validates
    it: a flood of 5,000-vertex polygons is refused for the price of a byte search, not
    10 ms of JSON and validation each on the event loop."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def admitted_handler(request: Request) -> Response:
            if request.method == "POST" and not _has_credentials(request) and b'"area"' in await request.body():
                with request.app.state.read_sessionmaker() as session:
                    await _count_area(request, session, f"ip:{client_ip(request)}")
            return await handler(request)

        return admitted_handler


router = APIRouter(tags=["matching"], dependencies=[Depends(require_reader)], route_class=AreaAdmissionRoute,
                   responses=error_responses(401, 422, 429, 503))


async def admit_area(request: Request, session: ReadSessionDep,
                     principal: Annotated[Principal, Depends(require_reader)]) -> None:
    """Every requirement with an area counts once, before its body is validated: per
    account for a signed-in caller, per address otherwise, unless ``AreaAdmissionRoute``
    already counted it (any header that is not a valid credential leaves the caller
    anonymous, and still counted here)."""
    if not getattr(request.state, "area_counted", False) and b'"area"' in await request.body():
        await _count_area(request, session, caller_key(request, principal))


@router.post("/match", summary="Rank published sites against an investor requirement",
             dependencies=[Depends(admit_area)])
async def match_sites(request: Request, session: ReadSessionDep, requirement: Requirement,
                      principal: Annotated[Principal, Depends(require_reader)]) -> OrjsonResponse:
    """Results pass every hard constraint, ranked by a 0-100 score explained per
    criterion; near misses fail one or two hard constraints and say by how much. The
    search is recorded for unmet-demand analytics, without personal data. A requirement
    with an area of interest (geometry on every site near it) is counted per account or
    address (``admit_area``) and waits in its own queue."""

    def work() -> dict[str, Any]:
        return match(session.connection(), requirement)

    answer = await (queue(request, "area").run(work) if requirement.area is not None else to_thread.run_sync(work))
    caller = "staff" if principal.is_staff else "reader" if principal.role == "reader" else "public"
    if demand.should_record(caller):
        request.app.state.searches.add(resolve(requirement), answer, caller)
    return OrjsonResponse(answer)


@router.get("/match/presets", summary="Activity presets (logistics, data centre, ...)")
def presets() -> OrjsonResponse:
    return OrjsonResponse([
        {"name": name, "label_en": p["label_en"], "label_it": p["label_it"], "requirement": p["requirement"],
         "preferences": p.get("preferences", []), "weights": p.get("weights", {})}
        for name, p in load_presets().items()
    ])


def _window(since: ReportDay = None, until: ReportDay = None,
            activity: Annotated[str | None, Query(max_length=64, description="a preset, or 'custom'")] = None,
            province: Annotated[str | None, Query(pattern="^[A-Za-z]{2}$")] = None) -> demand.Window:
    return demand.Window(since, until, activity, province)


def _report(request: Request, session: Session, window: demand.Window) -> dict[str, Any]:
    """The report, with this worker's pending searches written first; other workers'
    follow within ``OPPORTUNITY_ANALYTICS_FLUSH_INTERVAL_S``."""
    request.app.state.searches.flush()
    return demand.report(session, window)


@router.get("/analytics/demand", summary="Unmet demand: searches with no or few results, what kept them empty (staff)",
            responses=error_responses(403))
def unmet_demand(_: StaffDep, request: Request, session: SessionDep,
                 window: Annotated[demand.Window, Depends(_window)]) -> OrjsonResponse:
    return OrjsonResponse(_report(request, session, window))


@router.get("/analytics/demand.csv", summary="The searches by month, activity and province as CSV (staff)",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}, **error_responses(403)})
def unmet_demand_csv(_: StaffDep, request: Request, session: SessionDep,
                     window: Annotated[demand.Window, Depends(_window)]) -> Response:
    return Response(demand.groups_csv(_report(request, session, window)), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": attachment("unmet-demand.csv")})
