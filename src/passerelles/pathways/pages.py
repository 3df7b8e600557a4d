"""The parcours page: a form a counsellor fills in with a person (GET, works without JavaScript)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError

from passerelles.pathways.schemas import Profile
from passerelles.pathways.services import plan, resolve_diploma
from passerelles.web import DbSession, Rules, render

router = APIRouter(include_in_schema=False)


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
                experience.append({"occupation": occ, "years": float(years.replace(",", "."))})
            except ValueError:
                errors.append(f"Durée d'expérience invalide : {years}")
    submitted = bool(diplome or experience_metier or age or cible)
    result = None
    profile = None
    if submitted and not errors:
        try:
            profile = Profile(
                diplomas=diplomas,
                experience=experience,
                age=int(age) if age else None,
                commune=commune or None,
                target=cible or None,
                max_months=float(max_mois) if max_mois else None,
                apprenticeship=bool(apprentissage),
                distance_learning=bool(distance),
            )
        except (ValidationError, ValueError) as exc:
            errors.append(f"Profil invalide : {exc}")
        if profile is not None:
            result = plan(session, profile, book)
            if result is None:
                errors.append(f"Métier visé inconnu : {cible}")
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
            "diploma_choices": diploma_choices,
            "occupation_choices": sorted(book.occupations.items(), key=lambda x: x[1]),
        },
    )
