"""Authorisation matrix: every route of the app × every role (anonymous, personne, counsellor of platform
A, counsellor of platform B, employer, administrator; and three employers whose structure membership
differs: a pending claim and a refused claim on the employer's structure, the administrator of another
structure). Each cell of the table below is asserted: allowed
means a 2xx or 3xx answer (not the login page), refused means 401, 403, 404 or the redirect to login.

Routes of the other features (public pages and API) are tried too: no role may get a 401/403 or a 5xx there.
Every route of the accounts, caseloads, employers and alerts packages must appear in the table.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from passerelles.accounts import services as accounts
from passerelles.accounts.models import Account, EmployerMembership
from passerelles.accounts.schemas import AccountCreate, StructureIn
from passerelles.accounts.security import CSRF_COOKIE
from passerelles.alerts import services as alerts
from passerelles.alerts.schemas import SavedSearchIn
from passerelles.caseloads import services as caseloads
from passerelles.caseloads.models import PersonFile
from passerelles.caseloads.schemas import ActionIn, FileIn, StepIn
from passerelles.employers import applications as employer_applications
from passerelles.employers import applying, job_datings, memberships
from passerelles.employers import services as employers
from passerelles.employers.schemas import ApplicationIn, ApplyIn, EventIn, NeedIn, OfferIn
from passerelles.offers.models import Employer
from passerelles.settings import Settings
from tests.accounts.test_employers import third_employer
from tests.support.accounts import PASSWORD, World, login
from tests.support.pdf import minimal_pdf

ROLES = [
    "anonyme",
    "personne",
    "conseiller_a",
    "conseiller_b",
    "employeur",
    "admin",
    "employeur_attente",  # registered with the employer's SIRET: a pending claim
    "employeur_refuse",  # the same, refused by the structure's administrator
    "employeur_autre",  # administrator of another structure
]
LOGGED = set(ROLES) - {"anonyme"}
# Employers who act for a structure (their own); those whose claim is not accepted act for none.
EMPLOYERS = {"employeur", "employeur_autre"}
EVERY_EMPLOYER = EMPLOYERS | {"employeur_attente", "employeur_refuse"}
A = {"conseiller_a"}
COUNSELLORS = {"conseiller_a", "conseiller_b"}
MINE = ("passerelles.accounts", "passerelles.caseloads", "passerelles.employers", "passerelles.alerts")
# Logging in, out, registering, confirming and resetting are for anyone: tested in test_accounts.py.
AUTH_FLOW = {
    "POST /api/v1/comptes/connexion",
    "POST /api/v1/comptes/deconnexion",
    "POST /api/v1/comptes/inscription",
    "POST /api/v1/comptes/verification",
    "POST /api/v1/comptes/mot-de-passe/oubli",
    "POST /api/v1/comptes/mot-de-passe",
    "GET /connexion",
    "POST /connexion",
    "POST /deconnexion",
    "GET /inscription",
    "POST /inscription",
    "GET /compte/verifier",
    "GET /mot-de-passe-oublie",
    "POST /mot-de-passe-oublie",
    "GET /mot-de-passe/nouveau",
    "POST /mot-de-passe/nouveau",
    "GET /alertes/desabonnement",  # authenticated by its signature, not a session
    "POST /alertes/desabonnement",
    # Authenticated by the single-use token sent to a structure's contact address: test_memberships.py.
    "GET /employeur/rattachement/confirmer",
    "POST /employeur/rattachement/confirmer",
    "POST /api/v1/employeur/rattachement/confirmation",
    # Authenticated by the signed link of the applicant's confirmation e-mail: test_applying.py.
    "GET /candidatures/suivi/{application_id}",
    "GET /candidatures/suivi/{application_id}/cv",
}


@dataclass
class Ctx:
    db: Session
    world: World
    settings: Settings
    ids: dict[str, int] = field(default_factory=dict)
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def account(self, key: str) -> Account:
        account = self.db.get(Account, self.world.ids[key])
        assert account is not None
        return account

    def offer(self) -> int:
        data = OfferIn(
            title=f"Offre {next(self.counter)}",
            occupation_slug="aide-soignant",
            contract_type="CDI",
            commune_code="69381",
        )
        offer = employers.post_offer(self.db, self.account("employeur"), data)
        self.db.commit()
        return offer.id

    def file(self, linked: bool = False) -> int:
        data = FileIn(
            first_name="Nadia",
            last_name="Benali",
            consent_accompagnement=True,
            visible_employeurs=True,
            commune_code="69381",
        )
        file = caseloads.create_file(self.db, self.account("conseiller_a"), data)
        if linked:
            file.account_id = self.world.ids["personne"]
        self.db.commit()
        return file.id

    def invited_file(self) -> int:
        """A fresh file a counsellor invited the person's existing account to (no answer yet)."""
        file_id = self.file()
        file = self.db.get(PersonFile, file_id)
        assert file is not None
        file.invited_account_id = self.world.ids["personne"]
        self.db.commit()
        return file_id

    def applied_with_cv(self, via_counsellor: bool = False) -> int:
        """A fresh application of the person (linked to a file of counsellor A, who may follow it) with a CV."""
        data = ApplyIn(
            name="Nadia Benali", email="nadia@example.org", counsellor_consent=True, via_counsellor=via_counsellor
        )
        applied = applying.apply_online(
            self.db, self.settings, self.account("personne"), self.offer(), data, minimal_pdf(), "cv.pdf"
        )
        assert applied is not None and applied.application is not None
        self.db.commit()
        return applied.application.id

    def search(self) -> int:
        out = alerts.create(self.db, self.account("personne"), SavedSearchIn(kind="offres"))
        self.db.commit()
        return out.id

    def claim(self, siret: str = "73282932000074") -> int:
        """A fresh pending claim (self-registration on a known SIRET); the employer's structure by default."""
        email = f"demandeur{next(self.counter)}@example.org"
        structure = StructureIn(name="Demande", siret=siret, structure_type="ehpad")
        account = accounts.create_account(
            self.db,
            None,
            AccountCreate(email=email, display_name="Demandeur", role="employeur", structure=structure),
            password=PASSWORD,
            verified=True,
        )
        self.db.commit()
        found = self.db.scalar(select(EmployerMembership.id).where(EmployerMembership.account_id == account.id))
        assert found is not None
        return found

    def orphan_claim(self) -> int:
        """A fresh pending claim on a structure nobody administers (as an offers feed creates them)."""
        siret = "55200000000000"
        if self.db.scalar(select(Employer.id).where(Employer.siret == siret)) is None:
            self.db.add(Employer(siret=siret, name="Résidence des Pins", structure_type="ehpad"))
            self.db.commit()
        return self.claim(siret)

    def throwaway(self, role: str) -> str:
        email = f"jetable{next(self.counter)}@example.org"
        accounts.create_account(
            self.db,
            None,
            AccountCreate(email=email, display_name="Jetable", role=role),
            password=PASSWORD,
            verified=True,  # type: ignore[arg-type]
        )
        self.db.commit()
        return email


Body = Callable[[Ctx, str], dict[str, Any]]


@dataclass
class Cell:
    allowed: set[str]
    json: Body | None = None
    form: Body | None = None
    params: Body | None = None
    path: Callable[[Ctx], dict[str, int]] | None = None  # fresh objects for destructive calls
    self_destructive: bool = False  # the allowed role runs it with a throwaway account


def j(value: dict[str, Any]) -> Body:
    return lambda _ctx, _role: value


def victim_file(ctx: Ctx) -> dict[str, int]:
    return {"file_id": ctx.file()}


def victim_step(ctx: Ctx) -> dict[str, int]:
    file_id = ctx.file()
    step = caseloads.add_step(
        ctx.db, ctx.account("conseiller_a"), file_id, StepIn(kind="immersion", on=dt.date(2026, 11, 2))
    )
    assert step is not None
    ctx.db.commit()
    return {"file_id": file_id, "step_id": step.id}


def victim_need(ctx: Ctx) -> dict[str, int]:
    need = employers.add_need(
        ctx.db, ctx.account("employeur"), NeedIn(occupation_slug="aide-soignant", positions=1, contract_type="CDI")
    )
    ctx.db.commit()
    return {"need_id": need.id}


def victim_account(ctx: Ctx) -> dict[str, int]:
    account = accounts.get_account_by_email(ctx.db, ctx.throwaway("personne"))
    assert account is not None
    return {"account_id": account.id}


EXPECT: dict[str, Cell] = {
    # accounts
    "GET /api/v1/comptes/moi": Cell(LOGGED),
    "GET /api/v1/admin/plateformes": Cell({"admin"}),
    "POST /api/v1/admin/plateformes": Cell({"admin"}, json=lambda c, r: {"name": f"Plateforme {next(c.counter)}"}),
    "GET /api/v1/admin/comptes": Cell({"admin"}),
    "POST /api/v1/admin/comptes": Cell(
        {"admin"},
        json=lambda c, r: {
            "email": f"cree{next(c.counter)}@example.org",
            "display_name": "X",
            "role": "conseiller",
            "platform_id": c.world.platform_a,
        },
    ),
    "POST /api/v1/admin/comptes/{account_id}/desactivation": Cell({"admin"}, path=victim_account),
    "POST /admin/comptes/{account_id}/desactivation": Cell({"admin"}, path=victim_account),
    "GET /espace": Cell(LOGGED),
    "GET /admin": Cell({"admin"}),
    "POST /admin/plateformes": Cell({"admin"}, form=lambda c, r: {"name": f"Plateforme page {next(c.counter)}"}),
    "POST /admin/comptes": Cell(
        {"admin"},
        form=lambda c, r: {
            "email": f"page{next(c.counter)}@example.org",
            "display_name": "X",
            "role": "conseiller",
            "platform_id": str(c.world.platform_a),
        },
    ),
    # caseloads API
    "DELETE /api/v1/dossiers/{file_id}/etapes/{step_id}": Cell(A, path=victim_step),
    "POST /conseil/dossiers/{file_id}/etapes/{step_id}/suppression": Cell(A, path=victim_step),
    "GET /api/v1/dossiers": Cell(COUNSELLORS),
    "POST /api/v1/dossiers": Cell(
        COUNSELLORS, json=j({"first_name": "A", "last_name": "B", "consent_accompagnement": True})
    ),
    "GET /api/v1/dossiers/{file_id}": Cell(A | {"personne"}),
    "PUT /api/v1/dossiers/{file_id}/profil": Cell(A, json=j({"target": "aide-soignant"})),
    "POST /api/v1/dossiers/{file_id}/etapes": Cell(A, json=j({"kind": "immersion", "on": "2026-03-01"})),
    "POST /api/v1/dossiers/{file_id}/notes": Cell(A, json=j({"text": "note"})),
    "POST /api/v1/dossiers/{file_id}/actions": Cell(A, json=j({"text": "appeler", "due_on": "2026-12-01"})),
    "POST /api/v1/dossiers/{file_id}/actions/{action_id}/fait": Cell(A),
    "POST /api/v1/dossiers/{file_id}/consentements": Cell(A | {"personne"}, json=j({"purpose": "sante"})),
    "POST /api/v1/dossiers/{file_id}/consentements/retrait": Cell(A | {"personne"}, json=j({"purpose": "sante"})),
    "PUT /api/v1/dossiers/{file_id}/sante": Cell(A, json=j({"health_notes": None})),
    "POST /api/v1/dossiers/{file_id}/partages": Cell(
        A, json=lambda c, r: {"counsellor_id": c.world.ids["conseiller_a2"]}
    ),
    "GET /api/v1/dossiers/{file_id}/journal": Cell(A | {"personne"}),
    "DELETE /api/v1/dossiers/{file_id}": Cell(A, path=victim_file),
    "GET /api/v1/moi/dossier": Cell({"personne"}),
    "GET /api/v1/moi/export": Cell(LOGGED),
    "DELETE /api/v1/moi": Cell({"personne"}, self_destructive=True),
    "GET /api/v1/tableau-de-bord": Cell(
        COUNSELLORS | {"admin"},
        params=lambda c, r: (
            {"debut": "2026-01-01", "fin": "2026-12-31"} | ({"plateforme": c.world.platform_a} if r == "admin" else {})
        ),
    ),
    # caseloads pages
    "GET /conseil/dossiers": Cell(COUNSELLORS),
    "GET /conseil/dossiers.csv": Cell(COUNSELLORS),
    "GET /conseil/dossiers/nouveau": Cell(COUNSELLORS),
    "POST /conseil/dossiers/nouveau": Cell(
        COUNSELLORS, form=j({"first_name": "A", "last_name": "B", "consent_accompagnement": "oui"})
    ),
    "GET /conseil/dossiers/{file_id}": Cell(A),
    "POST /conseil/dossiers/{file_id}/etapes": Cell(A, form=j({"kind": "immersion", "on": "2026-03-01"})),
    "POST /conseil/dossiers/{file_id}/notes": Cell(A, form=j({"text": "note"})),
    "POST /conseil/dossiers/{file_id}/actions": Cell(A, form=j({"text": "appeler", "due_on": "2026-12-01"})),
    "POST /conseil/dossiers/{file_id}/actions/{action_id}/fait": Cell(A),
    "POST /conseil/dossiers/{file_id}/consentements": Cell(A, form=j({"purpose": "sante"})),
    "POST /conseil/dossiers/{file_id}/sante": Cell(A, form=j({"health_notes": ""})),
    "POST /conseil/dossiers/{file_id}/profil": Cell(A, form=j({"target": "aide-soignant"})),
    "POST /conseil/dossiers/{file_id}/partages": Cell(
        A, form=lambda c, r: {"counsellor_id": str(c.world.ids["conseiller_a2"])}
    ),
    "POST /conseil/dossiers/{file_id}/invitation": Cell(A),
    "POST /conseil/dossiers/{file_id}/effacement": Cell(A, form=j({"confirmation": "EFFACER"}), path=victim_file),
    "GET /conseil/dossiers/{file_id}/journal": Cell(A),
    "GET /conseil/tableau-de-bord": Cell(COUNSELLORS | {"admin"}),
    "GET /espace/personne": Cell({"personne"}),
    "POST /espace/personne/consentements": Cell({"personne"}, form=j({"purpose": "sante"})),
    "POST /espace/personne/invitations/{file_id}": Cell(
        {"personne"}, form=j({"reponse": "accepter"}), path=lambda ctx: {"file_id": ctx.invited_file()}
    ),
    "GET /espace/personne/export.json": Cell(LOGGED),
    "POST /espace/personne/effacement": Cell({"personne"}, form=j({"confirmation": "EFFACER"}), self_destructive=True),
    # employers API
    "GET /api/v1/employeur/rattachement": Cell(EVERY_EMPLOYER),
    "POST /api/v1/employeur/rattachement/invitation": Cell(set()),  # a pending claim on an orphan structure only
    "GET /api/v1/employeur/rattachements": Cell(EMPLOYERS),
    "POST /api/v1/employeur/rattachements/{membership_id}": Cell(
        {"employeur"}, json=j({"decision": "refuser"}), path=lambda c: {"membership_id": c.claim()}
    ),
    "GET /api/v1/admin/rattachements": Cell({"admin"}),
    "POST /api/v1/admin/rattachements/{membership_id}": Cell(
        {"admin"}, json=j({"decision": "refuser"}), path=lambda c: {"membership_id": c.orphan_claim()}
    ),
    "GET /api/v1/employeur/structure": Cell(EMPLOYERS),
    "PUT /api/v1/employeur/structure": Cell(EMPLOYERS, json=j({"description": "EHPAD de 80 lits"})),
    "GET /api/v1/employeur/besoins": Cell(EMPLOYERS),
    "POST /api/v1/employeur/besoins": Cell(
        EMPLOYERS, json=j({"occupation_slug": "aide-soignant", "positions": 2, "contract_type": "CDI"})
    ),
    "GET /api/v1/employeur/offres": Cell(EMPLOYERS),
    "POST /api/v1/employeur/offres": Cell(
        EMPLOYERS,
        json=j({"title": "ASH", "occupation_slug": "aide-soignant", "contract_type": "CDD", "commune_code": "69266"}),
    ),
    "POST /api/v1/employeur/offres/{offer_id}/fermeture": Cell({"employeur"}, path=lambda c: {"offer_id": c.offer()}),
    "GET /api/v1/employeur/offres/{offer_id}/candidats": Cell({"employeur"}),
    "GET /api/v1/candidatures": Cell({"personne"} | EMPLOYERS | COUNSELLORS),
    "POST /api/v1/candidatures": Cell(
        A | {"personne"}, json=lambda c, r: {"offer_id": c.offer(), "file_id": c.ids["file_id"]}
    ),
    "GET /api/v1/candidatures/{application_id}": Cell(A | {"personne", "employeur"}),
    "PUT /api/v1/candidatures/{application_id}/statut": Cell({"employeur"}, json=j({"status": "entretien"})),
    "GET /api/v1/job-datings": Cell({"personne"} | EMPLOYERS | COUNSELLORS),
    "POST /api/v1/job-datings": Cell(
        EMPLOYERS,
        json=lambda c, r: {
            "title": "Job dating",
            "on": (dt.date.today() + dt.timedelta(days=5)).isoformat(),
            "place": "Lyon",
            "capacity": 50,
        },
    ),
    "POST /api/v1/job-datings/{event_id}/inscriptions": Cell(
        A | {"personne"}, json=lambda c, r: {"file_id": c.ids["file_id"]}
    ),
    # employers pages
    "GET /employeur": Cell(EVERY_EMPLOYER),  # a claim not accepted: its state, nothing of the structure
    "POST /employeur/rattachement/invitation": Cell(set()),
    "POST /employeur/rattachements/{membership_id}": Cell(
        {"employeur"}, form=j({"decision": "refuser"}), path=lambda c: {"membership_id": c.claim()}
    ),
    "GET /admin/rattachements": Cell({"admin"}),
    "POST /admin/rattachements/{membership_id}": Cell(
        {"admin"}, form=j({"decision": "refuser"}), path=lambda c: {"membership_id": c.orphan_claim()}
    ),
    "POST /employeur/structure": Cell(EMPLOYERS, form=j({"description": "Présentation"})),
    "POST /employeur/besoins": Cell(
        EMPLOYERS, form=j({"occupation_slug": "aide-soignant", "positions": "1", "contract_type": "CDI"})
    ),
    "POST /employeur/offres": Cell(
        EMPLOYERS,
        form=j({"title": "AES", "occupation_slug": "aide-soignant", "contract_type": "CDI", "commune_code": "69381"}),
    ),
    "GET /employeur/offres/{offer_id}": Cell({"employeur"}),
    "GET /employeur/offres/nouvelle": Cell(EMPLOYERS),
    "POST /employeur/offres/{offer_id}/candidats/{file_id}/contact": Cell(
        {"employeur"}, form=j({"message": "Bonjour, votre profil nous intéresse."})
    ),
    # Applying from an offer's page: anyone may read the form; people (with or without an account) apply.
    "GET /emploi/offres/{offer_id}/postuler": Cell(set(ROLES)),
    "POST /emploi/offres/{offer_id}/postuler": Cell(
        {"anonyme", "personne"},
        form=lambda c, r: {"name": "Camille Martin", "email": f"{r}{next(c.counter)}@example.org"},
        path=lambda c: {"offer_id": c.offer()},
    ),
    # An application and its CV: the offer's employer, the person, and their consenting counsellor only.
    "GET /candidatures/{application_id}": Cell(A | {"personne", "employeur"}),
    "GET /candidatures/{application_id}/cv": Cell(
        A | {"personne", "employeur"}, path=lambda c: {"application_id": c.applied_with_cv()}
    ),
    "POST /candidatures/{application_id}/validation": Cell(
        A, form=j({"decision": "transmettre"}), path=lambda c: {"application_id": c.applied_with_cv(True)}
    ),
    "POST /employeur/offres/{offer_id}/fermeture": Cell({"employeur"}, path=lambda c: {"offer_id": c.offer()}),
    "DELETE /api/v1/employeur/besoins/{need_id}": Cell({"employeur"}, path=victim_need),
    "POST /employeur/besoins/{need_id}/suppression": Cell({"employeur"}, path=victim_need),
    "GET /candidatures": Cell({"personne"} | EMPLOYERS | COUNSELLORS),
    "POST /candidatures": Cell(
        A | {"personne"}, form=lambda c, r: {"offer_id": str(c.offer()), "file_id": str(c.ids["file_id"])}
    ),
    "POST /candidatures/{application_id}/statut": Cell({"employeur"}, form=j({"status": "vue"})),
    "GET /job-datings": Cell({"personne"} | EMPLOYERS | COUNSELLORS),
    "POST /job-datings": Cell(
        EMPLOYERS,
        form=lambda c, r: {
            "title": "Job dating",
            "on": (dt.date.today() + dt.timedelta(days=5)).isoformat(),
            "place": "Lyon",
            "capacity": "5",
        },
    ),
    "POST /job-datings/{event_id}/inscriptions": Cell(
        A | {"personne"}, form=lambda c, r: {"file_id": str(c.ids["file_id"])}
    ),
    # alerts
    "GET /api/v1/alertes": Cell(LOGGED),
    "POST /api/v1/alertes": Cell(COUNSELLORS | {"personne"}, json=j({"kind": "offres", "criteria": {"q": "aide"}})),
    "GET /api/v1/alertes/{search_id}/resultats": Cell({"personne"}),
    "DELETE /api/v1/alertes/{search_id}": Cell({"personne"}, path=lambda c: {"search_id": c.search()}),
    "GET /alertes": Cell(LOGGED),
    "POST /alertes": Cell(COUNSELLORS | {"personne"}, form=j({"kind": "offres", "q": "aide"})),
    "POST /alertes/{search_id}/suppression": Cell({"personne"}, path=lambda c: {"search_id": c.search()}),
}

PUBLIC_PARAMS = {"slug": "aide-soignant", "code": "J1501", "offer_id": "1", "session_id": "1", "source_id": "rome"}


def routes(app: Any) -> list[tuple[str, str, str]]:
    """(method, path, module of the endpoint) for every route of the app."""
    out = []
    for route in iter_route_contexts(app.routes):
        path = getattr(route, "path", None)
        methods = getattr(route, "methods", None) or set()
        endpoint = getattr(route, "endpoint", None)
        if path is None or path.startswith("/static"):
            continue
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            out.append((method, path, getattr(endpoint, "__module__", "")))
    return out


def refused(response: Any) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    return response.status_code == 303 and response.headers.get("location", "").startswith("/connexion")


def allowed(response: Any) -> bool:
    return 200 <= response.status_code < 400 and not response.headers.get("location", "").startswith("/connexion")


@pytest.fixture
def ctx(db: Session, world: World, settings: Settings) -> Ctx:
    c = Ctx(db=db, world=world, settings=settings)
    c.ids["file_id"] = c.file(linked=True)
    action = caseloads.add_action(
        db, c.account("conseiller_a"), c.ids["file_id"], ActionIn(text="Rappeler", due_on=dt.date(2026, 12, 1))
    )
    assert action is not None
    c.ids["action_id"] = action.id
    c.ids["offer_id"] = c.offer()
    application = employer_applications.apply(
        db, c.account("conseiller_a"), ApplicationIn(offer_id=c.ids["offer_id"], file_id=c.ids["file_id"])
    )
    assert application is not None
    c.ids["application_id"] = application.id
    event = job_datings.create_event(
        db,
        c.account("employeur"),
        EventIn(title="Job dating", on=dt.date.today() + dt.timedelta(days=3), place="Lyon", capacity=100),
    )
    c.ids["event_id"] = event.id
    c.ids["account_id"] = victim_account(c)["account_id"]
    c.ids["step_id"] = victim_step(c)["step_id"]  # on another file: the CSRF check comes first anyway
    c.ids["need_id"] = victim_need(c)["need_id"]
    c.ids["search_id"] = c.search()
    c.ids["membership_id"] = c.claim()
    # Three employers whose membership differs: pending and refused claims on the employer's structure
    # (registered with its public SIRET), and the administrator of another structure.
    for key in ("employeur_attente", "employeur_refuse"):
        membership_id = c.claim()
        m = db.get(EmployerMembership, membership_id)
        account = db.get(Account, m.account_id) if m is not None else None
        assert account is not None
        world.emails[key], world.ids[key] = account.email, account.id
    refused = memberships.decide_as_structure(db, c.account("employeur"), membership_id, False)
    assert refused is not None and refused.status == "refused"
    other = third_employer(db)
    world.emails["employeur_autre"], world.ids["employeur_autre"] = other.email, other.id
    db.commit()
    return c


def _client(app: Any, email: str | None) -> tuple[TestClient, str]:
    client = TestClient(app, raise_server_exceptions=False)
    if email is None:
        client.cookies.set(CSRF_COOKIE, "anonymous-token", domain="testserver.local")
        return client, "anonymous-token"
    return client, login(client, email)


def test_every_route_for_every_role(app: Any, ctx: Ctx) -> None:
    clients = {role: _client(app, None if role == "anonyme" else ctx.world.emails[role]) for role in ROLES}
    failures: list[str] = []
    seen: set[str] = set()
    for method, path, module in routes(app):
        key = f"{method} {path}"
        if key in AUTH_FLOW:
            seen.add(key)
            continue
        cell = EXPECT.get(key)
        if cell is None:
            if module.startswith(MINE):
                failures.append(f"{key}: route absente de la matrice")
                continue
            # Another feature's route: public, never a 401/403/5xx, whoever asks.
            url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: PUBLIC_PARAMS.get(m.group(1), "1"), path)
            for role in ROLES:
                client, token = clients[role]
                response = client.request(
                    method, url, headers={"X-CSRF-Token": token}, json={} if method != "GET" else None
                )
                if response.status_code in (401, 403) or response.status_code >= 500:
                    failures.append(f"{key} [{role}] → {response.status_code}")
            continue
        seen.add(key)
        # Refused roles first (they must change nothing), then the allowed ones.
        for role in sorted(ROLES, key=lambda r: r in cell.allowed):
            client, token = clients[role]
            if cell.self_destructive and role in cell.allowed:
                client, token = _client(app, ctx.throwaway(role))
            ids = dict(ctx.ids) | (cell.path(ctx) if cell.path else {})
            url = re.sub(r"\{(\w+)\}", lambda m, ids=ids: str(ids[m.group(1)]), path)  # type: ignore[misc]
            kwargs: dict[str, Any] = {"headers": {"X-CSRF-Token": token}, "follow_redirects": False}
            if cell.json:
                kwargs["json"] = cell.json(ctx, role)
            if cell.form:
                kwargs["data"] = cell.form(ctx, role) | {"csrf_token": token}
            elif method != "GET" and not cell.json:
                kwargs["data"] = {"csrf_token": token}
            if cell.params:
                kwargs["params"] = cell.params(ctx, role)
            response = client.request(method, url, **kwargs)
            ok = allowed(response) if role in cell.allowed else refused(response)
            if not ok:
                expected = "autorisé" if role in cell.allowed else "refusé"
                failures.append(f"{key} [{role}] attendu {expected}, reçu {response.status_code} {response.text[:120]}")
    missing = set(EXPECT) - seen
    assert not missing, f"entrées de la matrice sans route : {sorted(missing)}"
    assert not failures, "\n".join(failures)


def test_every_state_changing_route_refuses_a_missing_or_wrong_csrf_token(app: Any, ctx: Ctx) -> None:
    """With a cookie session, every POST/PUT/DELETE of these packages needs the session's token."""
    client, _token = _client(app, ctx.world.emails["conseiller_a"])
    checked = 0
    for method, path, module in routes(app):
        if method == "GET" or not module.startswith(MINE) or path.startswith("/alertes/desabonnement"):
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: str(ctx.ids[m.group(1)]), path)
        for headers in ({}, {"X-CSRF-Token": "faux"}):
            is_api = path.startswith("/api/")
            response = client.request(
                method,
                url,
                headers=headers,
                json={} if is_api else None,
                data=None if is_api else {"csrf_token": "faux"},
            )
            assert response.status_code == 403, f"{method} {path} sans jeton valide → {response.status_code}"
            assert "CSRF" in response.text
        checked += 1
    assert checked > 50
    assert client.get("/api/v1/comptes/moi").status_code == 200  # nothing above logged the counsellor out
