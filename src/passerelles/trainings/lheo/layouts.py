"""The namespaces of the LHÉO versions read, and where each field lives in their two structures."""

from __future__ import annotations

from dataclasses import dataclass

NS_13 = "http://www.lheo.org/1.3.0"
NS_22 = "http://www.lheo.org/2.2"
NS_23 = "http://lheo.gouv.fr/2.3"
VERSIONS = {NS_13: "1.3", NS_22: "2.2", NS_23: "2.3"}


@dataclass(frozen=True)
class Layout:
    """Where each field lives, relative to the record (formation), its actions and sessions."""

    record: str
    numbered: bool
    title: str
    objective: str
    content: str
    result: str
    formacode: str
    nsf: str
    rome: str
    rncp: str
    certifinfo: str
    cpf: str | None
    level: str
    contact: str
    url: str
    provider: str
    actions: str
    action_prefix: str
    rhythm: str
    public: str
    alternance: str
    modality: str
    prerequisites: str
    place: str
    action_url: str
    sessions: str
    session_prefix: str
    admission: str
    price_total: str
    price_hourly: str
    duration: str
    hours: str
    funding: str
    places: str | None
    initial: str | None
    registration_address: str
    registration_start: str
    registration_end: str
    state: str | None
    session_url: str | None
    session_contact: str | None
    session_rncp: str | None
    # LHÉO 2.x only: ``modalites-inscription`` (session), ``date-information`` and ``adresse-information``
    # (action: the information meetings, up to three dates).
    registration_terms: str | None = None
    information_dates: str | None = None
    information_address: str | None = None


V2 = Layout(
    record="formation",
    numbered=True,
    title="intitule-formation",
    objective="objectif-formation",
    content="contenu-formation",
    result="resultats-attendus",
    formacode="domaine-formation/code-FORMACODE",
    nsf="domaine-formation/code-NSF",
    rome="domaine-formation/code-ROME",
    rncp="certification/code-RNCP",
    certifinfo="certification/code-CERTIFINFO",
    cpf="certification/code-CPF",
    level="code-niveau-sortie",
    contact="contact-formation/coordonnees",
    url="url-formation/urlweb",
    provider="organisme-formation-responsable",
    actions="action",
    action_prefix="action/",
    rhythm="rythme-formation",
    public="code-public-vise",
    alternance="modalites-alternance",
    modality="modalites-enseignement",
    prerequisites="conditions-specifiques",
    place="lieu-de-formation/coordonnees",
    action_url="url-action/urlweb",
    sessions="session",
    session_prefix="action/session/",
    admission="modalites-recrutement",
    price_total="prix-total-TTC",
    price_hourly="prix-horaire-TTC",
    duration="duree-indicative",
    hours="nombre-heures-total",
    funding="organisme-financeur/code-financeur",
    places="organisme-financeur/nb-places-financees",
    initial="extras/extra[@info='formation-initiale']",
    registration_address="adresse-inscription/adresse",
    registration_start="periode-inscription/periode/debut",
    registration_end="periode-inscription/periode/fin",
    state="etat-recrutement",
    session_url="url-session/urlweb",
    session_contact="contact-session/coordonnees",
    session_rncp="reference-certification/reference-code-RNCP",
    registration_terms="modalites-inscription",
    information_dates="date-information/date",
    information_address="adresse-information/adresse",
)

_ACCESS = "organisation-formation/modalites-acces/"
V13 = Layout(
    record="offre-formation",
    numbered=False,
    title="action-formation/intitule-action",
    objective="action-formation/objectif-formation",
    content="action-formation/contenu-formation",
    result="action-formation/resultats-attendus",
    formacode="action-formation/domaine-formation/codes-FORMACODE/code-FORMACODE",
    nsf="action-formation/domaine-formation/codes-NSF/code-NSF",
    rome="action-formation/domaine-formation/codes-ROME/code-ROME",
    rncp="action-formation/certification/code-RNCP",
    certifinfo="action-formation/certification/code-CERTIFINFO",
    cpf=None,
    level="action-formation/code-niveau-sortie",
    contact="action-formation/contact-offre/coordonnees",
    url="action-formation/url-action/urlweb",
    provider="organismes/organisme-formation-responsable",
    actions=".",  # an LHÉO 1.3 offer is one action
    action_prefix="",
    rhythm="action-formation/rythme-formation",
    public="action-formation/codes-public-vise/code-public-vise",
    alternance="organisation-formation/conditions-pedagogiques/modalite-alternance",
    modality="organisation-formation/conditions-pedagogiques/FOAD",
    prerequisites="organisation-formation/conditions-pedagogiques/conditions-specifiques",
    place=_ACCESS + "lieu-de-formation/coordonnees",
    action_url="action-formation/url-action/urlweb",
    sessions=_ACCESS + "sessions/session",
    session_prefix=_ACCESS + "sessions/session/",
    admission="organisation-formation/organisation-pedagogique/modalites-recrutement",
    price_total="organisation-formation/organisation-administrative/prix-total-TTC",
    price_hourly="organisation-formation/organisation-administrative/prix-horaire-TTC",
    duration="action-formation/duree-indicative",
    hours="organisation-formation/organisation-administrative/nombre-heures-total",
    funding="organismes/organismes-financeurs/code-financeur",
    places=None,
    initial=None,
    registration_address=_ACCESS + "lieu-date-inscription/adresse-inscription/adresse",
    registration_start=_ACCESS + "lieu-date-inscription/date-inscription/date",
    registration_end="organisation-formation/organisation-administrative/date-limite-inscription/date",
    state=None,
    session_url=None,
    session_contact=None,
    session_rncp=None,
)
