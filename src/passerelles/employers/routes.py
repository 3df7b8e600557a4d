"""JSON API of the employers' space, applications and job-dating events (thin over services)."""

from __future__ import annotations

from typing import TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from passerelles.accounts.security import Actor, PathId, QueryId, csrf_protect
from passerelles.employers import applications, candidates, job_datings, memberships, services
from passerelles.employers.schemas import (
    ApplicationIn,
    ApplicationOut,
    CandidateOut,
    ClaimConfirmIn,
    ClaimOut,
    DecisionIn,
    EventIn,
    EventOut,
    MembershipOut,
    NeedIn,
    NeedOut,
    OfferIn,
    OfferOut,
    ProfileIn,
    RegistrationIn,
    StatusIn,
    StructureOut,
)
from passerelles.errors import NotFound
from passerelles.web import DbSession

router = APIRouter(tags=["employeurs"], dependencies=[Depends(csrf_protect)])
T = TypeVar("T")


def _found(value: T | None, message: str = "Ressource introuvable.") -> T:
    if value is None:
        raise NotFound(message)
    return value


@router.get("/employeur/rattachement", response_model=ClaimOut)
def get_claim(session: DbSession, actor: Actor) -> ClaimOut:
    """Le rattachement de l'employeur connecté à sa structure : validé, en attente ou refusé."""
    return memberships.own_claim(session, actor)


@router.post("/employeur/rattachement/invitation", response_model=ClaimOut)
def post_claim_invitation(request: Request, session: DbSession, actor: Actor) -> ClaimOut:
    """Demande en attente sur une structure sans administrateur : envoyer à l'adresse de contact connue de la
    structure un lien (à usage unique) qui confirme la demande."""
    out = memberships.send_claim_invitation(session, request.app.state.settings, actor)
    session.commit()
    return out


@router.post("/employeur/rattachement/confirmation", response_model=MembershipOut)
def post_claim_confirmation(session: DbSession, data: ClaimConfirmIn) -> MembershipOut:
    """Confirmer une demande de rattachement avec le jeton reçu à l'adresse de contact de la structure."""
    out = _found(memberships.confirm_claim(session, data.token), "Lien invalide, déjà utilisé ou expiré.")
    session.commit()
    return out


@router.get("/employeur/rattachements", response_model=list[MembershipOut])
def get_structure_requests(session: DbSession, actor: Actor) -> list[MembershipOut]:
    """Demandes de rattachement en attente sur la structure (son administrateur)."""
    return memberships.structure_requests(session, actor)


@router.post("/employeur/rattachements/{membership_id}", response_model=MembershipOut)
def post_structure_decision(session: DbSession, actor: Actor, membership_id: PathId, data: DecisionIn) -> MembershipOut:
    """Accepter ou refuser une demande de rattachement à la structure (son administrateur)."""
    accept = data.decision == "accepter"
    out = _found(memberships.decide_as_structure(session, actor, membership_id, accept), "Demande introuvable.")
    session.commit()
    return out


@router.get("/admin/rattachements", response_model=list[MembershipOut])
def get_admin_requests(session: DbSession, actor: Actor) -> list[MembershipOut]:
    """Demandes de rattachement en attente sur des structures sans administrateur (administrateurs)."""
    return memberships.admin_requests(session, actor)


@router.post("/admin/rattachements/{membership_id}", response_model=MembershipOut)
def post_admin_decision(session: DbSession, actor: Actor, membership_id: PathId, data: DecisionIn) -> MembershipOut:
    """Accepter ou refuser une demande sur une structure sans administrateur (administrateurs)."""
    accept = data.decision == "accepter"
    out = _found(memberships.decide_as_admin(session, actor, membership_id, accept), "Demande introuvable.")
    session.commit()
    return out


@router.get("/employeur/structure", response_model=StructureOut)
def get_structure(session: DbSession, actor: Actor) -> StructureOut:
    """La structure de l'employeur connecté (SIRET, type, présentation)."""
    return services.structure(session, actor)


@router.put("/employeur/structure", response_model=StructureOut)
def put_structure(session: DbSession, actor: Actor, data: ProfileIn) -> StructureOut:
    """Mettre à jour la présentation de la structure."""
    out = services.update_structure(session, actor, data)
    session.commit()
    return out


@router.get("/employeur/besoins", response_model=list[NeedOut])
def get_needs(session: DbSession, actor: Actor) -> list[NeedOut]:
    """Besoins de recrutement de la structure."""
    return services.list_needs(session, actor)


@router.delete("/employeur/besoins/{need_id}", status_code=204)
def delete_need(session: DbSession, actor: Actor, need_id: PathId) -> Response:
    """Supprimer un besoin de recrutement de la structure."""
    if services.delete_need(session, actor, need_id) is None:
        raise NotFound("Besoin introuvable.")
    session.commit()
    return Response(status_code=204)


@router.post("/employeur/besoins", response_model=NeedOut, status_code=201)
def post_need(session: DbSession, actor: Actor, data: NeedIn) -> NeedOut:
    """Déclarer un besoin (métier, nombre, contrat, date, nuits et week-ends)."""
    out = services.add_need(session, actor, data)
    session.commit()
    return out


@router.get("/employeur/offres", response_model=list[OfferOut])
def get_offers(session: DbSession, actor: Actor) -> list[OfferOut]:
    """Offres publiées depuis l'espace employeur."""
    return services.list_offers(session, actor)


@router.post("/employeur/offres", response_model=OfferOut, status_code=201)
def post_offer(session: DbSession, actor: Actor, data: OfferIn) -> OfferOut:
    """Publier une offre : elle rejoint la recherche d'offres."""
    offer = services.post_offer(session, actor, data)
    session.commit()
    return services.offer_out(offer)


@router.post("/employeur/offres/{offer_id}/fermeture", response_model=OfferOut)
def close_offer(session: DbSession, actor: Actor, offer_id: PathId) -> OfferOut:
    """Fermer une offre pourvue."""
    offer = _found(services.close_offer(session, actor, offer_id), "Offre introuvable.")
    session.commit()
    return services.offer_out(offer)


@router.get("/employeur/offres/{offer_id}/candidats", response_model=list[CandidateOut])
def get_candidates(session: DbSession, actor: Actor, offer_id: PathId) -> list[CandidateOut]:
    """Candidats suggérés (seulement les personnes qui l'ont accepté), classés, avec le « pourquoi »."""
    return _found(candidates.candidates(session, actor, offer_id), "Offre introuvable.")


@router.get("/candidatures", response_model=list[ApplicationOut])
def get_applications(session: DbSession, actor: Actor, offre: QueryId | None = None) -> list[ApplicationOut]:
    """Candidatures visibles : les siennes (personne), celles de ses dossiers (conseiller), celles reçues
    (employeur)."""
    return applications.list_applications(session, actor, offre)


@router.post("/candidatures", response_model=ApplicationOut, status_code=201)
def post_application(session: DbSession, actor: Actor, data: ApplicationIn) -> ApplicationOut:
    """Candidater à une offre (personne) ou enregistrer la candidature d'un dossier (conseiller)."""
    out = _found(applications.apply(session, actor, data), "Dossier introuvable.")
    session.commit()
    return out


@router.get("/candidatures/{application_id}", response_model=ApplicationOut)
def get_application(session: DbSession, actor: Actor, application_id: PathId) -> ApplicationOut:
    """Une candidature (l'employeur qui l'ouvre la marque « vue »)."""
    out = _found(applications.get_application(session, actor, application_id), "Candidature introuvable.")
    session.commit()
    return out


@router.put("/candidatures/{application_id}/statut", response_model=ApplicationOut)
def put_status(session: DbSession, actor: Actor, application_id: PathId, data: StatusIn) -> ApplicationOut:
    """Répondre à une candidature (employeur) : vue, entretien, non retenue, embauche."""
    out = _found(applications.set_status(session, actor, application_id, data.status), "Candidature introuvable.")
    session.commit()
    return out


@router.get("/job-datings", response_model=list[EventOut])
def get_events(session: DbSession, actor: Actor) -> list[EventOut]:
    """Job datings à venir (employeur : les siens, avec les inscrits)."""
    return job_datings.list_events(session, actor)


@router.post("/job-datings", response_model=EventOut, status_code=201)
def post_event(session: DbSession, actor: Actor, data: EventIn) -> EventOut:
    """Organiser un job dating (employeur)."""
    event = job_datings.create_event(session, actor, data)
    session.commit()
    return next(e for e in job_datings.list_events(session, actor) if e.id == event.id)


@router.post("/job-datings/{event_id}/inscriptions", status_code=201)
def post_registration(session: DbSession, actor: Actor, event_id: PathId, data: RegistrationIn) -> dict[str, str]:
    """S'inscrire (personne) ou inscrire un dossier (conseiller) à un job dating."""
    _found(job_datings.register_event(session, actor, event_id, data.file_id), "Job dating introuvable.")
    session.commit()
    return {"status": "inscrit"}
