"""The parcours page: a form a counsellor fills in with a person (GET, works without JavaScript)."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError

from passerelles.pathways.schemas import Profile
from passerelles.pathways.services import InvalidProfile, normalise_profile, plan, resolve_diploma
from passerelles.places.services import commune_of_field, place_index
from passerelles.web import DbSession, Rules, render

router = APIRouter(include_in_schema=False)

FIELD_LABELS = {
    "age": "Âge",
    "max_months": "Durée maximale",
    "commune": "Commune",
    "experience": "Expérience",
    "diplomas": "Diplômes",
    "target": "Métier visé",
}


def _french(error: Any) -> str:
    ctx = error.get("ctx") or {}
    if "ge" in ctx:
        return f"au moins {ctx['ge']}"
    if "le" in ctx:
        return f"au plus {ctx['le']}"
    if "gt" in ctx:
        return f"plus de {ctx['gt']}"
    if "max_length" in ctx:
        return f"{ctx['max_length']} au plus"
    return "format inattendu"


def _number(raw: str) -> float:
    """A finite number typed in a form (decimal comma accepted); ``nan``, ``inf`` or ``1e400`` are refused."""
    value = float(raw.replace(",", "."))
    if not math.isfinite(value):
        raise ValueError(raw)
    return value


@router.get("/parcours")
def parcours_page(
    request: Request,
    session: DbSession,
    book: Rules,
    diplome: Annotated[list[str], Query()] = [],  # noqa: B006
    experience_metier: Annotated[list[str], Query()] = [],  # noqa: B006
    experience_annees: Annotated[list[str], Query()] = [],  # noqa: B006
    age: str = "",
    commune: str = "",
    cible: str = "",
    max_mois: str = "",
    apprentissage: str = "",
    distance: str = "",
) -> Any:
    errors: list[str] = []
    diplomas = []
    for d in diplome:
        if not d:
            continue
        slug = resolve_diploma(book, d)
        if slug is None:
            errors.append(f"Diplôme inconnu : {d}")
        else:
            diplomas.append({"slug": slug})
    experience = []
    for occ, years in zip(experience_metier, experience_annees, strict=False):
        if occ and years:
            try:
                experience.append({"occupation": occ, "years": _number(years)})
            except ValueError:
                errors.append(f"Durée d'expérience invalide : {years}")
    place, commune_code = commune_of_field(place_index(session), commune)
    if place.error:
        errors.append(f"Commune : {place.error}")
    submitted = bool(diplome or experience_metier or age or cible)
    result = None
    numbers: dict[str, float | None] = {}
    for field, raw, label in (("age", age, "Âge"), ("max_months", max_mois, "Durée maximale")):
        try:
            numbers[field] = _number(raw) if raw.strip() else None
        except ValueError:
            errors.append(f"{label} : un nombre est attendu (reçu « {raw[:40]} »).")
    if submitted and not errors:
        try:
            profile = Profile.model_validate(
                {
                    "diplomas": diplomas,
                    "experience": experience,
                    "age": None if (age_years := numbers.get("age")) is None else int(age_years),
                    "commune": commune_code,
                    "target": cible or None,
                    "max_months": numbers.get("max_months"),
                    "apprenticeship": bool(apprentissage),
                    "distance_learning": bool(distance),
                }
            )
            result = plan(session, normalise_profile(session, book, profile), book)
        except ValidationError as exc:
            errors.extend(
                f"{FIELD_LABELS.get(str(e['loc'][0]), e['loc'][0])} : valeur refusée ({_french(e)})."
                for e in exc.errors()
            )
        except InvalidProfile as exc:
            errors.extend(e["reason"].capitalize() + "." for e in exc.errors)
    diploma_choices = sorted(
        [(s, c.acronym or c.name, c.name) for s, c in book.certs.items()]
        + [(s, g.name, g.name) for s, g in book.general.items()],
        key=lambda x: x[1].lower(),
    )
    return render(
        request,
        "pathways/parcours.html",
        {
            "result": result,
            "errors": errors,
            "book": book,
            "form": {
                "diplome": [d for d in diplome if d],
                "experience": list(zip(experience_metier, experience_annees, strict=False)),
                "age": age,
                "commune": commune,
                "cible": cible,
                "max_mois": max_mois,
                "apprentissage": apprentissage,
                "distance": distance,
            },
            "place": place,
            "diploma_choices": diploma_choices,
            "occupation_choices": sorted(book.occupations.items(), key=lambda x: x[1]),
        },
    )
