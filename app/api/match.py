"""``POST /match``: an investor requirement in, a ranked and explained short list out;
``GET /match/presets``: the activity presets a form can offer."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.api.responses import OrjsonResponse, error_responses
from app.api.security import require_reader
from app.catalogue.matching import match
from app.catalogue.requirements import Requirement, load_presets
from app.core.database import SessionDep

router = APIRouter(tags=["matching"], dependencies=[Depends(require_reader)],
                   responses=error_responses(401, 422, 503))


@router.post("/match", summary="Rank published sites against an investor requirement")
def match_sites(session: SessionDep, requirement: Requirement) -> OrjsonResponse:
    """Results pass every hard constraint, ranked by a 0-100 score explained per
    criterion; near misses fail one or two hard constraints and say by how much."""
    return OrjsonResponse(match(session.connection(), requirement))


@router.get("/match/presets", summary="Activity presets (logistics, data centre, ...)")
def presets() -> OrjsonResponse:
    return OrjsonResponse([
        {"name": name, "label_en": p["label_en"], "label_it": p["label_it"], "requirement": p["requirement"],
         "preferences": p.get("preferences", []), "weights": p.get("weights", {})}
        for name, p in load_presets().items()
    ])
