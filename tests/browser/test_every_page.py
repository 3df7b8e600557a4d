"""Every HTML page of the application, in a real Chromium, on a phone (390×844) and on a desktop (1280×800):

- the page fits: no horizontal scrolling (``scrollWidth <= innerWidth``) at either width;
- axe-core finds no serious or critical violation, on the phone and on the desktop (the whole page each time);
- on the phone, controls are touch targets of 44 px at least (buttons, fields, menus, the header's links);
- no visible text shows a source identifier (the ``id`` of a ``sources:`` entry of data/*.yaml), a raw slug,
  a raw enum code (contract, modality, step, status…), a raw month or date (``2026-12``) or an internal id;
- a screenshot of each page at each width is kept under test-artifacts/screenshots/pages/.

The pages are the app's own GET routes that answer HTML: each route needs a sample below (with the roles that
open it), so a new page route without a sample fails ``test_every_page_route_has_a_sample``. Pages that belong
to one person are visited as each role that may open them. One browser, one context per role, each page
loaded once and measured at both widths (the viewport is resized, the page is not reloaded).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from fastapi.routing import iter_route_contexts
from sqlalchemy import Engine, select

from passerelles.accounts import services as accounts
from passerelles.accounts.schemas import AccountCreate, PlatformIn, StructureIn
from passerelles.alerts import services as alerts
from passerelles.alerts.schemas import Criteria, SavedSearchIn
from passerelles.app import create_app
from passerelles.caseloads import services as caseloads
from passerelles.caseloads.models import CONSENT_PURPOSES, STEP_KINDS
from passerelles.caseloads.schemas import ActionIn, FileIn, NoteIn, StepIn
from passerelles.certifications.schemas import ROUTE_LABELS
from passerelles.db import make_sessionmaker
from passerelles.employers import applications, job_datings
from passerelles.employers import services as employers
from passerelles.employers.models import APPLICATION_STATUSES, Application
from passerelles.employers.schemas import ApplicationIn, EventIn, NeedIn, OfferIn
from passerelles.offers.models import JobOffer
from passerelles.offers.schemas import CONTRACTS, WORKING_TIMES
from passerelles.pathways.schemas import Profile
from passerelles.rome.models import RomeFiche
from passerelles.search.facets import MODALITY_LABELS
from passerelles.settings import PROJECT_ROOT, Settings
from passerelles.trainings.models import TrainingSession
from passerelles.trainings.schemas import MODALITIES, RECRUITMENT
from tests.support.browser import AXE, SCREENSHOTS

PASSWORD = "correct horse battery staple"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
OCCUPATION = "aide-soignant"
CERTIFICATION = "deas"
ROLES = ("personne", "conseiller", "employeur", "admin")
TOUCH_MIN = 44  # px, WCAG 2.5.5 (AAA) and the platforms' guidelines

# Route template → [(role or None for anonymous, sample URL)]. Placeholders in braces are filled with ids of
# the test's own data (``World.ids``).
SAMPLES: dict[str, list[tuple[str | None, str]]] = {
    "/": [(None, "/")],
    "/recherche": [(None, "/recherche?q=aide")],
    "/metiers": [(None, "/metiers")],
    "/metiers/rome/{code_rome}": [(None, "/metiers/rome/{code_rome}")],
    "/metiers/{slug}": [(None, f"/metiers/{OCCUPATION}")],
    "/certifications": [(None, "/certifications")],
    "/certifications/{slug}": [(None, f"/certifications/{CERTIFICATION}")],
    "/sources": [(None, "/sources")],
    "/parcours": [(None, "/parcours"), (None, f"/parcours?cible={OCCUPATION}&diplome=bac&age=30")],
    "/formations": [
        (None, "/formations"),
        (None, f"/formations?metier={OCCUPATION}&commune=Lyon&rayon=80"),
        (None, "/formations?tri=insertion&region=11"),
    ],
    "/formations/comparer": [
        (None, "/formations/comparer?ids={sessions}"),
        (None, "/formations/comparer?ids={sessions}&tri=insertion"),
    ],
    "/formations/sessions/{session_id}": [(None, "/formations/sessions/{session}")],
    "/emploi": [(None, "/emploi"), (None, f"/emploi?metier={OCCUPATION}&region=84")],
    "/emploi/offres/{offer_id}": [(None, "/emploi/offres/{offer}"), (None, "/emploi/offres/{employer_offer}")],
    "/alertes/desabonnement": [(None, "{unsubscribe}")],
    "/connexion": [(None, "/connexion")],
    "/inscription": [(None, "/inscription")],
    "/compte/verifier": [(None, "/compte/verifier?jeton=perime")],
    "/mot-de-passe-oublie": [(None, "/mot-de-passe-oublie")],
    "/mot-de-passe/nouveau": [(None, "/mot-de-passe/nouveau?jeton=perime")],
    "/composants": [(None, "/composants")],
    "/etre-accompagne": [(None, "/etre-accompagne"), (None, "/etre-accompagne?commune=Lyon")],
    "/financer": [
        (None, "/financer"),
        (None, "/financer?age=45&situation=demandeur-emploi&indemnise=true&certification=deaes&region=84"),
    ],
    "/espace": [(role, "/espace") for role in ROLES],
    "/admin": [("admin", "/admin")],
    "/admin/rattachements": [("admin", "/admin/rattachements")],
    "/conseil/dossiers": [("conseiller", "/conseil/dossiers")],
    "/conseil/dossiers/nouveau": [("conseiller", "/conseil/dossiers/nouveau")],
    "/conseil/dossiers/{file_id}": [("conseiller", "/conseil/dossiers/{file}")],
    "/conseil/dossiers/{file_id}/journal": [("conseiller", "/conseil/dossiers/{file}/journal")],
    "/conseil/tableau-de-bord": [("conseiller", "/conseil/tableau-de-bord"), ("admin", "/conseil/tableau-de-bord")],
    "/espace/personne": [("personne", "/espace/personne")],
    "/employeur": [("employeur", "/employeur")],
    "/employeur/rattachement/confirmer": [(None, "/employeur/rattachement/confirmer?jeton=perime")],
    "/employeur/offres/{offer_id}": [("employeur", "/employeur/offres/{employer_offer}")],
    "/candidatures": [(role, "/candidatures") for role in ("personne", "conseiller", "employeur")],
    "/job-datings": [(role, "/job-datings") for role in ("personne", "conseiller", "employeur")],
    "/alertes": [("personne", "/alertes")],
    "/emploi/offres/{offer_id}/postuler": [(None, "/emploi/offres/{employer_offer}/postuler")],
    "/employeur/offres/nouvelle": [("employeur", "/employeur/offres/nouvelle")],
    "/candidatures/{application_id}": [
        ("employeur", "/candidatures/{application}"),
        ("personne", "/candidatures/{application}"),
    ],
    "/candidatures/suivi/{application_id}": [(None, "{follow}")],
}
# Not a route: the error page every unknown address shows.
EXTRA = [("(404)", None, "/cette-page-n-existe-pas")]
# Answers that are files, not pages.
FILE_SUFFIXES = (".csv", ".ics", ".json", "/cv")
# (route, check) → the branch whose merge fixes it (none pending).
PENDING: dict[tuple[str, str], str] = {}


def html_page_routes() -> list[str]:
    """Path templates of the app's GET routes that answer an HTML page (not the API, not a file)."""
    app = create_app(Settings(database_url="sqlite://", environment="test"))
    paths = set()
    for route in iter_route_contexts(app.routes):
        path, methods = getattr(route, "path", None), getattr(route, "methods", None) or set()
        if not path or "GET" not in methods or path.startswith(("/api/", "/docs", "/static")):
            continue
        if path.endswith(FILE_SUFFIXES):
            continue
        paths.add(path)
    return sorted(paths)


@dataclass(frozen=True)
class Visit:
    route: str
    role: str | None
    url: str

    @property
    def name(self) -> str:
        path, _, query = self.url.partition("?")
        slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "accueil"
        if query:
            slug += "--" + re.sub(r"[^a-z0-9]+", "-", query.lower()).strip("-")[:40]
        return f"{self.role or 'anonyme'}--{slug}"


def visits() -> list[Visit]:
    out = [Visit(route, role, url) for route in sorted(SAMPLES) for role, url in SAMPLES[route]]
    out += [Visit(route, role, url) for route, role, url in EXTRA]
    names = [v.name for v in out]
    assert len(names) == len(set(names)), "deux visites portent le même nom"
    return out


# ------------------------------------------------------------------------------------ forbidden words


def _walk(node: Any, key: str | None = None) -> Iterator[tuple[str | None, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)
    else:
        yield key, node


def _yaml_files() -> list[Any]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((PROJECT_ROOT / "data").glob("*.yaml"))]


def _source_ids(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "sources" and isinstance(v, list):
                yield from (s["id"] for s in v if isinstance(s, dict) and "id" in s)
            else:
                yield from _source_ids(v)
    elif isinstance(node, list):
        for v in node:
            yield from _source_ids(v)


# Keys of data/*.yaml whose values are prose or names: a slug found there is an ordinary word.
PROSE_KEYS = {"text", "title", "name", "note", "label", "feminine", "acronym", "description", "certifier"}
PROSE_KEYS |= {"selection", "prerequisites", "summary", "former_names", "schedule", "physical_load", "basis"}


def _code_is_a_word(code: str, labels: list[str]) -> bool:
    """A code that is itself a word of its label (« distance » for « À distance », « embauche » for
    « Embauche ») is ordinary French when shown; « APP », « presentiel » or « vae » are not."""
    words = {w for label in labels for w in re.findall(r"[\w'-]+", label)}
    return code in words or code.capitalize() in words


@cache
def forbidden() -> dict[str, re.Pattern[str]]:
    """What must never show in a page's visible text, by kind, built from the data and the code's enums."""
    docs = _yaml_files()
    sources = {s for doc in docs for s in _source_ids(doc)}
    prose = " ".join(str(v) for doc in docs for k, v in _walk(doc) if k in PROSE_KEYS and isinstance(v, str))
    slugs = {str(v) for doc in docs for k, v in _walk(doc) if k == "slug" and v}
    raw_slugs = {s for s in slugs if not re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", prose)}
    enums: list[dict[Any, str]] = [CONTRACTS, WORKING_TIMES, MODALITIES, RECRUITMENT, APPLICATION_STATUSES]
    enums += [STEP_KINDS, CONSENT_PURPOSES, ROUTE_LABELS, MODALITY_LABELS]
    codes = {
        str(code)
        for enum in enums
        for code in enum
        if not str(code).isdigit() and ("_" in str(code) or not _code_is_a_word(str(code), list(enum.values())))
    }

    def words(items: set[str]) -> re.Pattern[str]:
        alternatives = "|".join(re.escape(i) for i in sorted(items, key=len, reverse=True))
        return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")

    return {
        "identifiant de source": words(sources),
        "slug": words(raw_slugs),
        "code brut": words(codes),
        "mois ou date bruts": re.compile(r"(?<![\w/.-])\d{4}-(?:0[1-9]|1[0-2])(?:-\d{2})?(?![\w/-])"),
        "identifiant interne": re.compile(r"(?<![\w-])[a-z]+(?:-[a-z0-9]+)*-[0-9a-f]{12}(?![\w-])"),
    }


def raw_identifiers(text: str) -> list[str]:
    text = re.sub(r"https?://\S+", " ", text)  # an address shown as such is not an identifier
    text = re.sub(r"(?<![\w.-])[\w-]+(?:\.[a-z]{2,})+(?![\w-])", " ", text)  # nor a site's name (vae.gouv.fr)
    found = []
    for kind, pattern in forbidden().items():
        for match in pattern.finditer(text):
            start = max(0, match.start() - 30)
            found.append(f"{kind} « {match.group(0)} » dans « …{text[start : match.end() + 30]}… »")
    return found


def test_forbidden_lists_come_from_the_data() -> None:
    """The lists hold what the brief names, and ordinary French words are not caught."""
    assert raw_identifiers("voir seed-onisep-amp et occ-lien-social-aes-2023, path-eecs-vae")[0].startswith(
        "identifiant de source"
    )
    assert len(raw_identifiers("seed-onisep-amp occ-lien-social-aes-2023 path-eecs-vae")) == 3
    assert raw_identifiers("Contrat : MIS")[0].startswith("code brut")
    assert raw_identifiers("APP")
    assert raw_identifiers("type ehpad") and not raw_identifiers("en EHPAD")
    assert raw_identifiers("Mois 2026-12") and not raw_identifiers("décembre 2026, 2020-2024")
    assert raw_identifiers("réf. employeur-1-1f91003ecd03")
    assert not raw_identifiers("France VAE (vae.gouv.fr), Bulletin officiel n° 2002-35") and raw_identifiers("vae")
    ordinary = "Aide-soignant à distance, embauche, formation continue ; Mixte ; la mission ; mistral ; Apprentissage."
    assert not raw_identifiers(ordinary), raw_identifiers(ordinary)


# ------------------------------------------------------------------------------------ the test's world


@dataclass
class World:
    emails: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)


def _path(link: str) -> str:
    split = urlsplit(link)
    return f"{split.path}?{split.query}"


@pytest.fixture(scope="module")
def world(browser_db: Engine) -> World:
    """An account of each role and what their pages show: a file with steps, notes, an action and an
    application, an offer posted by the employer, a need, a job dating, an alert."""
    if os.environ.get("PASSERELLES_BROWSER_URL"):
        pytest.skip("les comptes sont créés dans la base du serveur de test, pas dans un serveur extérieur")
    w = World()
    today = dt.date.today()
    with make_sessionmaker(browser_db)() as session:
        platform = accounts.create_platform(session, None, PlatformIn(name="Plateforme des pages Rhône"))
        people = {
            "admin": AccountCreate(email="admin@pages.example.org", display_name="Alix Admin", role="admin"),
            "conseiller": AccountCreate(
                email="conseil@pages.example.org",
                display_name="Camille Conseil",
                role="conseiller",
                platform_id=platform.id,
            ),
            "employeur": AccountCreate(
                email="drh@pages.example.org",
                display_name="EHPAD Les Capucines",
                role="employeur",
                structure=StructureIn(
                    name="EHPAD Les Capucines", siret="35600000000048", structure_type="ehpad", commune_code="69266"
                ),
            ),
            "personne": AccountCreate(email="nina@pages.example.org", display_name="Nina Durand", role="personne"),
        }
        made = {
            k: accounts.create_account(session, None, d, password=PASSWORD, verified=True) for k, d in people.items()
        }
        w.emails = {k: a.email for k, a in made.items()}
        counsellor, employer = made["conseiller"], made["employeur"]
        file = caseloads.create_file(
            session,
            counsellor,
            FileIn(
                first_name="Nina",
                last_name="Durand",
                email="nina@pages.example.org",
                commune_code="69381",
                available_from=today,
                consent_accompagnement=True,
                visible_employeurs=True,
                profile=Profile(target=OCCUPATION, commune="69381", age=30),
            ),
        )
        file.account_id = made["personne"].id
        for kind, days in (("reunion_information", 40), ("immersion", 20), ("entree_formation", 5)):
            caseloads.add_step(session, counsellor, file.id, StepIn(kind=kind, on=today - dt.timedelta(days=days)))
        caseloads.add_note(session, counsellor, file.id, NoteIn(text="Premier rendez-vous : projet d'aide-soignante."))
        caseloads.add_action(session, counsellor, file.id, ActionIn(text="Appeler l'IFAS", due_on=today))
        employers.add_need(
            session, employer, NeedIn(occupation_slug=OCCUPATION, positions=2, contract_type="MIS", nights=True)
        )
        offer = employers.post_offer(
            session,
            employer,
            OfferIn(
                title="Aide-soignant de jour — pages",
                occupation_slug=OCCUPATION,
                contract_type="APP",
                commune_code="69266",
                description="Équipe de jour, unité protégée.",
            ),
        )
        applied = applications.apply(session, counsellor, ApplicationIn(offer_id=offer.id, file_id=file.id))
        assert applied is not None
        job_datings.create_event(
            session,
            employer,
            EventIn(title="Job dating du soin", on=today + dt.timedelta(days=10), place="Villeurbanne", capacity=20),
        )
        alert = alerts.create(
            session, made["personne"], SavedSearchIn(kind="offres", criteria=Criteria(q="aide", commune="69381"))
        )
        session.commit()
        settings = Settings(database_url="sqlite://", environment="test")
        link = alerts.unsubscribe_link(settings, alert.id)
        split = urlsplit(link)
        sessions = session.scalars(select(TrainingSession.id).order_by(TrainingSession.id).limit(3)).all()
        demo_offer = session.scalar(select(JobOffer.id).where(JobOffer.is_demo.is_(True)).order_by(JobOffer.id))
        code_rome = session.scalar(select(RomeFiche.code_rome).order_by(RomeFiche.code_rome))
        w.ids = {
            "file": str(file.id),
            "employer_offer": str(offer.id),
            "offer": str(demo_offer),
            "session": str(sessions[0]),
            "sessions": ",".join(map(str, sessions)),
            "code_rome": str(code_rome),
            "unsubscribe": f"{split.path}?{split.query}",
            "application": str(applied.id),
            "follow": _path(applications.follow_link(settings, session.get(Application, applied.id))),
        }
    return w


# ------------------------------------------------------------------------------------ the survey

MEASURE = """() => {
  const width = window.innerWidth;
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > width + 1 && wide.length < 5) {
      wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
        ' → ' + Math.round(r.right) + ' px');
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width, wide: wide};
}"""

# Controls a finger must hit: buttons, fields, menus, summaries, the header's links (links inside running
# text are exempt, as in WCAG 2.5.5). Radio buttons and check boxes count through their label.
SMALL_TARGETS = """(min) => {
  const small = [];
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    ' « ' + (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 30) + ' »';
  const sel = 'button, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea,' +
    ' summary, header.site a, nav a, a.button';
  for (const el of document.querySelectorAll(sel)) {
    if (!visible(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.height < min - 0.5) small.push(name(el) + ' : ' + Math.round(r.height) + ' px de haut');
  }
  for (const el of document.querySelectorAll('input[type=checkbox], input[type=radio]')) {
    if (!visible(el)) continue;
    const label = el.closest('label') || (el.id && document.querySelector('label[for="' + el.id + '"]'));
    const box = label ? label.getBoundingClientRect() : el.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    const h = Math.max(box.height, r.height);
    if (h < min - 0.5) small.push(name(el) + ' : ' + Math.round(h) + ' px de haut');
  }
  return small.slice(0, 8);
}"""

# The whole page, at each width (contrast, target size and hidden content change with the layout).
AXE_RUN = """async (selector) => {
  const r = await axe.run(selector ? {include: [selector]} : document, {resultTypes: ['violations'],
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ' (' + v.impact + ') : ' + v.help + ' — ' +
      v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
}"""


@dataclass
class Findings:
    status: int = 0
    checks: dict[str, list[str]] = field(default_factory=lambda: {"fits": [], "axe": [], "touch": [], "raw": []})


def _survey_one(page: Any, visit: Visit, url: str) -> Findings:
    found = Findings()
    page.set_viewport_size(PHONE)
    response = page.goto(url)
    found.status = response.status if response else 0
    if found.status >= 500 or not page.locator("header.site").count():
        found.checks["fits"].append(f"{url} → {found.status}, sans l'en-tête du site")
        return found
    page.add_script_tag(path=str(AXE))
    folder = SCREENSHOTS / "pages"
    for label, size in (("390", PHONE), ("1280", DESKTOP)):
        page.set_viewport_size(size)
        measure = page.evaluate(MEASURE)
        if measure["scrollWidth"] > measure["innerWidth"]:
            found.checks["fits"].append(
                f"{label} px : la page fait {measure['scrollWidth']} px de large ; trop larges : {measure['wide']}"
            )
        found.checks["axe"] += [f"{label} px : {v}" for v in page.evaluate(AXE_RUN, None)]
        if size is PHONE:
            found.checks["touch"] += page.evaluate(SMALL_TARGETS, TOUCH_MIN)
        page.screenshot(path=str(folder / f"{visit.name}-{label}.png"), full_page=True)
    # Everything a reader can reach counts, folded sections and the phone's menu included.
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    found.checks["raw"] = raw_identifiers(page.evaluate("() => document.body.innerText"))
    return found


@pytest.fixture(scope="module")
def survey(browser: Any, live_server: str, world: World) -> dict[str, Findings]:
    (SCREENSHOTS / "pages").mkdir(parents=True, exist_ok=True)
    contexts: dict[str | None, Any] = {}
    results: dict[str, Findings] = {}
    try:
        for visit in visits():
            if visit.role not in contexts:
                ctx = browser.new_context(base_url=live_server, locale="fr-FR", viewport=PHONE)
                ctx.set_default_timeout(15_000)
                if visit.role:
                    answer = ctx.request.post(
                        "/api/v1/comptes/connexion", data={"email": world.emails[visit.role], "password": PASSWORD}
                    )
                    assert answer.ok, f"connexion de {visit.role} : {answer.status} {answer.text()}"
                contexts[visit.role] = (ctx, ctx.new_page())
            results[visit.name] = _survey_one(contexts[visit.role][1], visit, visit.url.format(**world.ids))
    finally:
        for ctx, _page in contexts.values():
            ctx.close()
    return results


# ------------------------------------------------------------------------------------ the tests


def test_every_page_route_has_a_sample() -> None:
    routes = html_page_routes()
    missing = [r for r in routes if r not in SAMPLES]
    assert not missing, f"pages sans adresse d'exemple dans SAMPLES : {missing}"
    stale = [r for r in SAMPLES if r not in routes]
    assert not stale, f"adresses d'exemple de routes qui n'existent plus : {stale}"


def _cases() -> list[Any]:
    cases = []
    for visit in visits():
        for check in ("fits", "axe", "touch", "raw"):
            marks = []
            if (visit.route, check) in PENDING and "?" in visit.url:
                marks.append(pytest.mark.xfail(strict=True, reason=PENDING[visit.route, check]))
            cases.append(pytest.param(visit, check, id=f"{check}:{visit.name}", marks=marks))
    return cases


@pytest.mark.parametrize(("visit", "check"), _cases())
def test_page(survey: dict[str, Findings], visit: Visit, check: str) -> None:
    found = survey[visit.name]
    assert found.status < 500, f"{visit.url} → {found.status}"
    problems = found.checks[check]
    assert not problems, f"{visit.url} ({visit.role or 'anonyme'}) :\n" + "\n".join(problems)


def test_screenshots_are_kept(survey: dict[str, Findings]) -> None:
    folder = SCREENSHOTS / "pages"
    for visit in visits():
        for label in ("390", "1280"):
            assert Path(folder / f"{visit.name}-{label}.png").stat().st_size > 1000
