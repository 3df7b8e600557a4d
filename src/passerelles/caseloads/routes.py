"""JSON API for caseloads, the person's own data and the outcomes dashboard (thin over services)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from passerelles.accounts.security import Actor, PathId, QueryId, csrf_protect
from passerelles.caseloads import privacy, reports, services
from passerelles.caseloads.schemas import (
    AccessOut,
    ActionIn,
    ConsentIn,
    Dashboard,
    FileDetail,
    FileFilters,
    FileIn,
    FileSummary,
    HealthIn,
    NoteIn,
    ShareIn,
    StepIn,
)
from passerelles.employers import applications
from passerelles.errors import NotFound
from passerelles.pathways.schemas import Profile
from passerelles.web import DbSession

router = APIRouter(tags=["dossiers"], dependencies=[Depends(csrf_protect)])
T = TypeVar("T")
MISSING = "Dossier introuvable."


def _found(value: T | None) -> T:
    if value is None or value is False:
        raise NotFound(MISSING)
    return value


@router.get("/dossiers", response_model=list[FileSummary])
def list_files(
    session: DbSession,
    actor: Actor,
    filters: Annotated[FileFilters, Query()],
) -> list[FileSummary]:
    """Dossiers suivis par le conseiller connecté (ou partagés avec lui), avec filtres."""
    return services.list_files(session, actor, filters)


@router.post("/dossiers", response_model=FileDetail, status_code=201)
def create_file(session: DbSession, actor: Actor, data: FileIn) -> FileDetail:
    """Ouvrir le dossier d'une personne (consentement à l'accompagnement obligatoire)."""
    file = services.create_file(session, actor, data)
    session.commit()
    return _found(services.file_detail(session, actor, file.id, log=None))


@router.get("/dossiers/{file_id}", response_model=FileDetail)
def get_file(session: DbSession, actor: Actor, file_id: PathId) -> FileDetail:
    """Un dossier (la lecture est inscrite au journal des accès)."""
    detail = _found(services.file_detail(session, actor, file_id))
    session.commit()
    return detail


@router.put("/dossiers/{file_id}/profil", response_model=FileDetail)
def put_profile(session: DbSession, actor: Actor, file_id: PathId, profile: Profile) -> FileDetail:
    """Remplacer le profil de parcours (diplômes, expérience, commune, métier visé…)."""
    _found(services.update_profile(session, actor, file_id, profile))
    session.commit()
    return _found(services.file_detail(session, actor, file_id, log=None))


@router.post("/dossiers/{file_id}/etapes", response_model=FileDetail, status_code=201)
def post_step(session: DbSession, actor: Actor, file_id: PathId, data: StepIn) -> FileDetail:
    """Ajouter une étape au parcours (réunion, immersion, entrée en formation, embauche, suivis…)."""
    _found(services.add_step(session, actor, file_id, data))
    session.commit()
    return _found(services.file_detail(session, actor, file_id, log=None))


@router.post("/dossiers/{file_id}/notes", response_model=FileDetail, status_code=201)
def post_note(session: DbSession, actor: Actor, file_id: PathId, data: NoteIn) -> FileDetail:
    """Ajouter une note (visible par la personne)."""
    _found(services.add_note(session, actor, file_id, data))
    session.commit()
    return _found(services.file_detail(session, actor, file_id, log=None))


@router.post("/dossiers/{file_id}/actions", response_model=FileDetail, status_code=201)
def post_action(session: DbSession, actor: Actor, file_id: PathId, data: ActionIn) -> FileDetail:
    """Ajouter une prochaine action datée."""
    _found(services.add_action(session, actor, file_id, data))
    session.commit()
    return _found(services.file_detail(session, actor, file_id, log=None))


@router.post("/dossiers/{file_id}/actions/{action_id}/fait", response_model=FileDetail)
def done_action(session: DbSession, actor: Actor, file_id: PathId, action_id: PathId) -> FileDetail:
    """Marquer une action comme faite."""
    _found(services.complete_action(session, actor, file_id, action_id))
    session.commit()
    return _found(services.file_detail(session, actor, file_id, log=None))


@router.post("/dossiers/{file_id}/consentements", response_model=FileDetail, status_code=201)
def post_consent(session: DbSession, actor: Actor, file_id: PathId, data: ConsentIn) -> FileDetail:
    """Enregistrer un consentement (finalité, date)."""
    _found(services.give_consent(session, actor, file_id, data.purpose))
    session.commit()
    return _found(services.file_detail(session, actor, file_id, log=None))


@router.post("/dossiers/{file_id}/consentements/retrait", response_model=FileDetail)
def withdraw_consent(session: DbSession, actor: Actor, file_id: PathId, data: ConsentIn) -> FileDetail:
    """Retirer un consentement (le retrait du consentement santé efface les informations de santé)."""
    if services.withdraw_consent(session, actor, file_id, data.purpose) is None:
        raise NotFound(MISSING)
    session.commit()
    return _found(services.file_detail(session, actor, file_id, log=None))


@router.put("/dossiers/{file_id}/sante", response_model=FileDetail)
def put_health(session: DbSession, actor: Actor, file_id: PathId, data: HealthIn) -> FileDetail:
    """Informations de santé ou de handicap : facultatives, seulement avec le consentement « santé »."""
    _found(services.set_health_notes(session, actor, file_id, data.health_notes))
    session.commit()
    return _found(services.file_detail(session, actor, file_id, log=None))


@router.post("/dossiers/{file_id}/partages", response_model=FileDetail, status_code=201)
def post_share(session: DbSession, actor: Actor, file_id: PathId, data: ShareIn) -> FileDetail:
    """Partager le dossier avec un conseiller de la même plateforme."""
    if services.find_file(session, actor, file_id) is None:
        raise NotFound(MISSING)
    services.share_file(session, actor, file_id, data.counsellor_id)
    session.commit()
    return _found(services.file_detail(session, actor, file_id, log=None))


@router.delete("/dossiers/{file_id}/etapes/{step_id}", status_code=204)
def delete_step(session: DbSession, actor: Actor, file_id: PathId, step_id: PathId) -> Response:
    """Supprimer une étape saisie par erreur (les chiffres du tableau de bord qui en venaient aussi)."""
    if services.delete_step(session, actor, file_id, step_id) is None:
        raise NotFound("Étape introuvable.")
    session.commit()
    return Response(status_code=204)


@router.get("/dossiers/{file_id}/journal", response_model=list[AccessOut])
def get_access_log(session: DbSession, actor: Actor, file_id: PathId) -> list[AccessOut]:
    """Journal des accès au dossier : qui l'a lu ou modifié, et quand."""
    return _found(services.access_log(session, actor, file_id))


@router.delete("/dossiers/{file_id}", status_code=204)
def delete_file(request: Request, session: DbSession, actor: Actor, file_id: PathId) -> Response:
    """Effacer un dossier à la demande de la personne (les chiffres anonymes restent)."""
    _found(privacy.erase_on_request(session, request.app.state.settings, actor, file_id))
    session.commit()
    return Response(status_code=204)


@router.get("/moi/dossier", response_model=FileDetail)
def my_file(session: DbSession, actor: Actor) -> FileDetail:
    """Mon dossier (personne accompagnée)."""
    return _found(services.own_file(session, actor))


@router.get("/moi/export")
def my_data(session: DbSession, actor: Actor) -> dict[str, Any]:
    """Toutes mes données, en JSON (droit d'accès et portabilité)."""
    return privacy.export_own_data(session, actor, applications.file_data)


@router.delete("/moi", status_code=204)
def erase_me(request: Request, session: DbSession, actor: Actor) -> Response:
    """Effacer mon compte et mon dossier."""
    privacy.erase_self(session, request.app.state.settings, actor)
    session.commit()
    return Response(status_code=204)


@router.get("/tableau-de-bord", response_model=Dashboard)
def get_dashboard(
    session: DbSession,
    actor: Actor,
    debut: dt.date,
    fin: dt.date,
    plateforme: QueryId | None = None,
) -> Dashboard:
    """Résultats d'une plateforme sur une période : personnes accompagnées, entrées en formation, diplômes,
    embauches, en poste à 6 mois."""
    return reports.dashboard(session, actor, plateforme, debut, fin)
