"""Counsellor pages (caseload, file, dashboard) and the person's own space. Plain forms, no JavaScript;
every form posts back and redirects (POST → 303 → GET)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from passerelles.accounts.pages import form_action, french_errors
from passerelles.accounts.security import Actor, PathId, csrf_protect, page
from passerelles.accounts.services import AccessDenied, InvalidInput, list_platforms
from passerelles.caseloads import invitations, privacy, reports, services
from passerelles.caseloads.charts import bar_chart
from passerelles.caseloads.models import CONSENT_PURPOSES, STEP_KINDS
from passerelles.caseloads.schemas import ActionIn, FileDetail, FileFilters, FileIn, HealthIn, NoteIn, StepIn
from passerelles.employers import applications
from passerelles.errors import NotFound
from passerelles.formatting import month
from passerelles.pathways.schemas import Profile
from passerelles.places.services import commune_of_field, place_index
from passerelles.web import DbSession
from passerelles.webforms import KeptForm, clip

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


def _back(file_id: PathId, anchor: str = "") -> Response:
    return RedirectResponse(f"/conseil/dossiers/{file_id}{anchor}", status_code=303)


def parcours_link(profile: Profile) -> str:
    """The planner page prefilled with the file's profile."""
    params: list[tuple[str, str]] = [("diplome", d.slug) for d in profile.diplomas]
    for e in profile.experience:
        params += [("experience_metier", e.occupation), ("experience_annees", str(e.years))]
    if profile.age:
        params.append(("age", str(profile.age)))
    if profile.commune:
        params.append(("commune", profile.commune))
    if profile.target:
        params.append(("cible", profile.target))
    return "/parcours?" + urlencode(params)


@router.get("/conseil/dossiers")
def caseload(
    request: Request,
    session: DbSession,
    actor: Actor,
    q: str = "",
    statut: str = "",
    etape: str = "",
    action_avant: str = "",
) -> Response:
    errors: list[str] = []
    try:
        filters = FileFilters(
            q=q,
            status=statut,
            step=etape,
            action_due_before=action_avant or None,
        )
    except ValidationError as exc:
        errors = french_errors(exc)
        filters = FileFilters()
    rows = services.list_files(session, actor, filters)
    query = urlencode({"q": q, "statut": statut, "etape": etape, "action_avant": action_avant})
    ctx = {"rows": rows, "filters": filters, "errors": errors, "steps": STEP_KINDS, "csv_query": query}
    return page(request, "caseloads/list.html", ctx)


@router.get("/conseil/dossiers.csv")
def caseload_csv(
    session: DbSession, actor: Actor, q: str = "", statut: str = "", etape: str = "", action_avant: str = ""
) -> Response:
    try:
        filters = FileFilters(q=q, status=statut, step=etape, action_due_before=action_avant or None)
    except ValidationError as exc:
        # The list page shows the same errors beside its form; the export refuses to guess.
        labels = {"q": "recherche", "status": "statut", "step": "étape", "action_due_before": "action avant le"}
        names = sorted({labels.get(str(e["loc"][0]), "filtre") for e in exc.errors() if e["loc"]})
        raise InvalidInput("filtres", "Filtre non reconnu : " + ", ".join(names) + ".") from None
    body = reports.csv_rows(services.list_files(session, actor, filters))
    headers = {"Content-Disposition": 'attachment; filename="dossiers.csv"', "Cache-Control": "no-store"}
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/conseil/dossiers/nouveau")
def new_file_form(request: Request, actor: Actor) -> Response:
    services._counsellor(actor)
    return page(request, "caseloads/new.html", {"errors": [], "form": {}, "place": None})


@router.post("/conseil/dossiers/nouveau")
def new_file(
    request: Request,
    session: DbSession,
    actor: Actor,
    first_name: Annotated[str, Form(max_length=100)] = "",
    last_name: Annotated[str, Form(max_length=100)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    phone: Annotated[str, Form(max_length=30)] = "",
    commune_code: Annotated[str, Form(max_length=120)] = "",
    commune_code_choix: Annotated[str, Form(max_length=120)] = "",
    available_from: Annotated[str, Form(max_length=10)] = "",
    target: Annotated[str, Form(max_length=80)] = "",
    diplomas: Annotated[str, Form(max_length=500)] = "",
    consent_accompagnement: Annotated[str, Form(max_length=5)] = "",
    visible_employeurs: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    typed = (commune_code_choix or commune_code).strip()
    form = {"first_name": first_name, "last_name": last_name, "email": email, "phone": phone}
    form |= {"commune_code": typed, "available_from": available_from, "target": target, "diplomas": diplomas}
    form |= {"consent_accompagnement": consent_accompagnement, "visible_employeurs": visible_employeurs}
    # The commune as typed (a name, a postcode or a code); homonyms are offered, the counsellor picks.
    place, code = commune_of_field(place_index(session), typed, must_pick=True)
    ctx = {"form": form, "place": place}
    if place.error:
        return page(request, "caseloads/new.html", {"errors": [f"Commune : {place.error}"], **ctx}, status_code=422)
    raw: dict[str, Any] = {
        "first_name": first_name,
        "last_name": last_name,
        "email": email or None,
        "phone": phone or None,
        "commune_code": code,
        "available_from": available_from or None,
        "consent_accompagnement": consent_accompagnement == "oui",
        "visible_employeurs": visible_employeurs == "oui",
        "profile": {
            "target": target or None,
            "commune": code,
            "diplomas": [{"slug": d.strip().lower()} for d in diplomas.split(",") if d.strip()],
        },
    }
    try:
        file = services.create_file(session, actor, FileIn.model_validate(raw))
        session.commit()
    except ValidationError as exc:
        return page(request, "caseloads/new.html", {"errors": french_errors(exc), **ctx}, status_code=422)
    except InvalidInput as exc:
        session.rollback()
        return page(request, "caseloads/new.html", {"errors": [exc.message], **ctx}, status_code=422)
    return _back(file.id)


def _detail_or_404(session: Any, actor: Any, file_id: PathId) -> FileDetail:
    detail = services.file_detail(session, actor, file_id)
    if detail is None:
        raise NotFound("Dossier introuvable.")
    session.commit()
    return detail


def _file_context(request: Request, session: Any, actor: Any, file_id: int) -> dict[str, Any]:
    services._counsellor(actor)
    detail = _detail_or_404(session, actor, file_id)
    index = place_index(session)
    commune = index.communes.get(detail.profile.commune or "")
    home = index.communes.get(detail.commune_code or "")
    return {
        "file_commune": index.commune_choice(home).value if home else None,
        "file": detail,
        "steps": STEP_KINDS,
        "purposes": CONSENT_PURPOSES,
        "colleagues": services.colleagues(session, actor),
        "parcours": parcours_link(detail.profile),
        "applications": applications.list_applications(session, actor, file_id=detail.id),
        "today": dt.date.today().isoformat(),
        "errors": request.query_params.getlist("erreur")[:5],
        "profile_form": None,
        "profile_place": None,
        "profile_commune": index.commune_choice(commune).value if commune else "",
        "kept": None,
    }


def _file_form(request: Request, session: Any, actor: Any, file_id: int, name: str, values: dict[str, str]) -> Any:
    """``form_action``'s ``kept`` for a form of the file page: refused, the page comes back (422) with what
    was typed and each problem beside its field."""

    def render(kept: KeptForm) -> Response:
        ctx = _file_context(request, session, actor, file_id) | {"kept": kept}
        return page(request, "caseloads/file.html", ctx, status_code=422)

    return (name, values, render)


@router.get("/conseil/dossiers/{file_id}")
def file_page(request: Request, session: DbSession, actor: Actor, file_id: PathId) -> Response:
    return page(request, "caseloads/file.html", _file_context(request, session, actor, file_id))


@router.post("/conseil/dossiers/{file_id}/etapes")
def step_form(
    request: Request,
    session: DbSession,
    actor: Actor,
    file_id: PathId,
    kind: Annotated[str, Form(), clip(30)] = "",
    on: Annotated[str, Form(), clip(10)] = "",
    detail: Annotated[str, Form(), clip(1000)] = "",
    in_post: Annotated[str, Form(), clip(5)] = "",
) -> Response:
    values = {"kind": kind, "on": on, "detail": detail, "in_post": in_post}

    def run() -> Any:
        data = StepIn.model_validate(
            {"kind": kind, "on": on, "detail": detail or None, "in_post": {"oui": True, "non": False}.get(in_post)}
        )
        return services.add_step(session, actor, file_id, data)

    kept = _file_form(request, session, actor, file_id, "etape", values)
    return form_action(session, f"/conseil/dossiers/{file_id}", run, missing="Dossier introuvable.", kept=kept)


@router.post("/conseil/dossiers/{file_id}/etapes/{step_id}/suppression")
def step_delete_form(session: DbSession, actor: Actor, file_id: PathId, step_id: PathId) -> Response:
    def run() -> Any:
        return services.delete_step(session, actor, file_id, step_id)

    return form_action(session, f"/conseil/dossiers/{file_id}", run, missing="Étape introuvable.")


@router.post("/conseil/dossiers/{file_id}/notes")
def note_form(
    request: Request,
    session: DbSession,
    actor: Actor,
    file_id: PathId,
    text: Annotated[str, Form(), clip(5000)] = "",
) -> Response:
    def run() -> Any:
        return services.add_note(session, actor, file_id, NoteIn(text=text))

    kept = _file_form(request, session, actor, file_id, "note", {"text": text})
    return form_action(session, f"/conseil/dossiers/{file_id}", run, missing="Dossier introuvable.", kept=kept)


@router.post("/conseil/dossiers/{file_id}/actions")
def action_form(
    request: Request,
    session: DbSession,
    actor: Actor,
    file_id: PathId,
    text: Annotated[str, Form(), clip(500)] = "",
    due_on: Annotated[str, Form(), clip(10)] = "",
) -> Response:
    def run() -> Any:
        return services.add_action(session, actor, file_id, ActionIn.model_validate({"text": text, "due_on": due_on}))

    kept = _file_form(request, session, actor, file_id, "action", {"text": text, "due_on": due_on})
    return form_action(session, f"/conseil/dossiers/{file_id}", run, missing="Dossier introuvable.", kept=kept)


@router.post("/conseil/dossiers/{file_id}/actions/{action_id}/fait")
def action_done(session: DbSession, actor: Actor, file_id: PathId, action_id: PathId) -> Response:
    def run() -> Any:
        return services.complete_action(session, actor, file_id, action_id)

    return form_action(session, f"/conseil/dossiers/{file_id}", run, missing="Dossier introuvable.")


@router.post("/conseil/dossiers/{file_id}/consentements")
def consent_form(
    request: Request,
    session: DbSession,
    actor: Actor,
    file_id: PathId,
    purpose: Annotated[str, Form(), clip(30)] = "",
    retrait: Annotated[str, Form(), clip(5)] = "",
) -> Response:
    services._counsellor(actor)

    def run() -> Any:
        if retrait == "oui":
            out: Any = services.withdraw_consent(session, actor, file_id, purpose)
        else:
            out = services.give_consent(session, actor, file_id, purpose)
        return out

    kept = _file_form(request, session, actor, file_id, "consentement", {"purpose": purpose, "retrait": retrait})
    return form_action(session, f"/conseil/dossiers/{file_id}", run, missing="Dossier introuvable.", kept=kept)


@router.post("/conseil/dossiers/{file_id}/sante")
def health_form(
    request: Request,
    session: DbSession,
    actor: Actor,
    file_id: PathId,
    health_notes: Annotated[str, Form(), clip(2000)] = "",
) -> Response:
    def run() -> Any:
        data = HealthIn.model_validate({"health_notes": health_notes.strip() or None})
        return services.set_health_notes(session, actor, file_id, data.health_notes)

    kept = _file_form(request, session, actor, file_id, "sante", {"health_notes": health_notes})
    return form_action(session, f"/conseil/dossiers/{file_id}", run, missing="Dossier introuvable.", kept=kept)


@router.post("/conseil/dossiers/{file_id}/profil")
def profile_form(
    request: Request,
    session: DbSession,
    actor: Actor,
    file_id: PathId,
    target: Annotated[str, Form(max_length=80)] = "",
    diplomas: Annotated[str, Form(max_length=500)] = "",
    age: Annotated[str, Form(max_length=3)] = "",
    commune: Annotated[str, Form(max_length=120)] = "",
    commune_choix: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    typed = (commune_choix or commune).strip()
    place, code = commune_of_field(place_index(session), typed, must_pick=True)
    if place.error:
        # Shown again with what was typed and the commune's problem beside its field (no redirect: the
        # typed values would be lost).
        ctx = _file_context(request, session, actor, file_id)
        ctx |= {"profile_form": {"target": target, "diplomas": diplomas, "age": age}, "profile_place": place}
        ctx |= {"profile_commune": typed}
        return page(request, "caseloads/file.html", ctx, status_code=422)

    def run() -> Any:
        profile = Profile.model_validate(
            {
                "target": target or None,
                "commune": code,
                "age": age or None,
                "diplomas": [{"slug": d.strip().lower()} for d in diplomas.split(",") if d.strip()],
            }
        )
        return services.update_profile(session, actor, file_id, profile)

    return form_action(session, f"/conseil/dossiers/{file_id}", run, missing="Dossier introuvable.")


@router.post("/conseil/dossiers/{file_id}/partages")
def share_form(
    request: Request,
    session: DbSession,
    actor: Actor,
    file_id: PathId,
    counsellor_id: Annotated[int, Form(ge=0, le=2_147_483_647)] = 0,
) -> Response:
    def run() -> Any:
        if services.find_file(session, actor, file_id) is None:
            return None
        services.share_file(session, actor, file_id, counsellor_id)
        return True

    kept = _file_form(request, session, actor, file_id, "partage", {"counsellor_id": str(counsellor_id)})
    return form_action(session, f"/conseil/dossiers/{file_id}", run, missing="Dossier introuvable.", kept=kept)


@router.post("/conseil/dossiers/{file_id}/invitation")
def invite_form(request: Request, session: DbSession, actor: Actor, file_id: PathId) -> Response:
    def run() -> Any:
        return invitations.invite_person(session, request.app.state.settings, actor, file_id)

    return form_action(session, f"/conseil/dossiers/{file_id}", run, missing="Dossier introuvable.")


@router.post("/conseil/dossiers/{file_id}/effacement")
def erase_form(
    request: Request,
    session: DbSession,
    actor: Actor,
    file_id: PathId,
    confirmation: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    if confirmation != "EFFACER":
        return RedirectResponse(
            f"/conseil/dossiers/{file_id}?" + urlencode({"erreur": "Tapez EFFACER pour confirmer l'effacement."}),
            status_code=303,
        )
    if not privacy.erase_on_request(session, request.app.state.settings, actor, file_id):
        raise NotFound("Dossier introuvable.")
    session.commit()
    return RedirectResponse("/conseil/dossiers", status_code=303)


@router.get("/conseil/dossiers/{file_id}/journal")
def access_log_page(request: Request, session: DbSession, actor: Actor, file_id: PathId) -> Response:
    services._counsellor(actor)
    rows = services.access_log(session, actor, file_id)
    if rows is None:
        raise NotFound("Dossier introuvable.")
    return page(request, "caseloads/journal.html", {"rows": rows, "file_id": file_id})


@router.get("/conseil/tableau-de-bord")
def dashboard_page(
    request: Request,
    session: DbSession,
    actor: Actor,
    debut: Annotated[str, Query(max_length=10)] = "",
    fin: Annotated[str, Query(max_length=10)] = "",
    plateforme: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    if actor.role not in ("conseiller", "admin"):
        raise AccessDenied("Réservé aux conseillers et administrateurs.")
    today = dt.date.today()
    errors: list[str] = []
    try:
        start = dt.date.fromisoformat(debut) if debut else today.replace(month=1, day=1)
        end = dt.date.fromisoformat(fin) if fin else today
    except ValueError:
        errors.append("Dates : format attendu AAAA-MM-JJ.")
        start, end = today.replace(month=1, day=1), today

    platforms = list_platforms(session) if actor.role == "admin" else []
    platform_id = (
        int(plateforme) if plateforme.isdigit() else (actor.platform_id or (platforms[0].id if platforms else None))
    )
    try:
        board = reports.dashboard(session, actor, platform_id, start, end)
    except InvalidInput as exc:
        ctx: dict[str, Any] = {
            "board": None,
            "errors": [*errors, exc.message],
            "platforms": platforms,
            "start": start,
            "end": end,
        }
        return page(request, "caseloads/dashboard.html", ctx, status_code=400)
    series = [(m["month"], int(m["embauche"])) for m in board.by_month]
    charts = {
        "totals": bar_chart("Résultats de la période", [(r.label, r.value) for r in board.rows], "graphique-resultats"),
        "hires": bar_chart("Embauches par mois", [(month(k), v) for k, v in series], "graphique-embauches"),
    }
    ctx = {
        "board": board,
        "charts": charts,
        "errors": errors,
        "platforms": platforms,
        "start": start,
        "end": end,
    }
    return page(request, "caseloads/dashboard.html", ctx)


# ---------------------------------------------------------------------------------------- person's space


@router.get("/espace/personne")
def own_space(request: Request, session: DbSession, actor: Actor) -> Response:
    detail = services.own_file(session, actor)
    pending = invitations.pending_invitations(session, actor)
    return page(request, "caseloads/own.html", {"file": detail, "purposes": CONSENT_PURPOSES, "invitations": pending})


@router.post("/espace/personne/invitations/{file_id}")
def own_invitation(
    session: DbSession, actor: Actor, file_id: PathId, reponse: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    if reponse not in ("accepter", "refuser"):
        raise InvalidInput("reponse", "Choisissez d'accepter ou de refuser.")
    if invitations.answer_invitation(session, actor, file_id, accept=reponse == "accepter") is None:
        raise NotFound("Cette invitation n'existe pas ou a déjà reçu une réponse.")
    session.commit()
    return RedirectResponse("/espace/personne", status_code=303)


@router.post("/espace/personne/consentements")
def own_consent(
    session: DbSession,
    actor: Actor,
    purpose: Annotated[str, Form(max_length=30)] = "",
    retrait: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    detail = services.own_file(session, actor)
    if detail is None:
        raise NotFound("Vous n'avez pas encore de dossier.")
    if retrait == "oui":
        services.withdraw_consent(session, actor, detail.id, purpose)
    else:
        services.give_consent(session, actor, detail.id, purpose)
    session.commit()
    return RedirectResponse("/espace/personne", status_code=303)


@router.get("/espace/personne/export.json")
def own_export(session: DbSession, actor: Actor) -> Response:
    data = privacy.export_own_data(session, actor, applications.file_data)
    headers = {
        "Content-Disposition": 'attachment; filename="mes-donnees-passerelles.json"',
        "Cache-Control": "no-store",
    }
    return JSONResponse(data, headers=headers)


@router.post("/espace/personne/effacement")
def own_erase(
    request: Request, session: DbSession, actor: Actor, confirmation: Annotated[str, Form(max_length=20)] = ""
) -> Response:
    if confirmation != "EFFACER":
        raise InvalidInput("confirmation", "Tapez EFFACER pour confirmer.")
    privacy.erase_self(session, request.app.state.settings, actor)
    session.commit()
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie("passerelles_session", path="/")
    return response
