"""``write_lheo_catalogue``: a regional training catalogue in LHÉO 2.3 (namespace ``http://lheo.gouv.fr/2.3``),
valid against ``lheo-2.3.xsd``: organismes, formations for the sector's current certifications, actions in
real communes with modality, access route, cost and funders, sessions over the next 18 months."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from random import Random

from passerelles.demo import DEMO_LABEL
from passerelles.demo.tools import (
    DEMO_SUFFIX,
    OutputFile,
    Sampler,
    T,
    add_months,
    compact_date,
    cut_text,
    invented_host,
    luhn_complete,
    random_digits,
    thousands,
    xml_text,
)
from passerelles.demo.vocabulary import FINANCEURS, NAMESAKES, ORG_TYPES, PUBLICS
from passerelles.demo.world import Cert, Place, World, fiction_phone, invented_address, load_world, resolve_dirs

LHEO_NAMESPACE = "http://lheo.gouv.fr/2.3"
HORIZON_DAYS = 548  # sessions start within the next 18 months


@dataclass
class _Organisme:
    numero: str
    type: str
    place: Place
    xml: str  # organisme-formation-responsable element
    address_xml: str  # <adresse> of its main site, with coordinates
    inscription_xml: str  # <adresse-inscription> (short address)
    contact_xml: str  # <coordonnees> with phone and e-mail


def _adresse_xml(p: Place, r: Callable[[], float]) -> tuple[str, str]:
    """(full <adresse> with coordinates, short <adresse>) of an invented address in commune ``p``."""
    street, postcode, lat, lon = invented_address(p, r)
    short = (
        f"<adresse><ligne>{xml_text(street)}</ligne><codepostal>{postcode}</codepostal><ville>{xml_text(p.city[:50])}</ville>"
        f"<departement>{p.dept}</departement><code-INSEE-commune>{p.code}</code-INSEE-commune>"
    )
    full = (
        f"{short}<region>{p.region}</region><pays>FR</pays><geolocalisation><latitude>{lat:.6f}</latitude>"
        f"<longitude>{lon:.6f}</longitude></geolocalisation></adresse>"
    )
    return full, short + "</adresse>"


def _uai(dept: str, r: Callable[[], float]) -> str:
    prefix = {"2A": "620", "2B": "720"}.get(dept, dept.zfill(3))
    body = prefix + random_digits(r, 4)
    return body + "ABCDEFGHJKLMNPRSTUVWXYZ"[int(body) % 23]


def _new_organisme(world: World, kind: str, number: int, r: Callable[[], float]) -> _Organisme:
    geo = world.geo
    spec = ORG_TYPES[kind]
    p = geo.pick(spec.min_pop, r)
    nom = NAMESAKES[int(r() * len(NAMESAKES))]
    fmt = {
        "ville": p.city,
        "dept": geo.dept_names.get(p.dept, p.dept),
        "region": geo.region_names.get(p.region, p.region),
        "nom": nom,
    }
    name_t, raison_t = spec.names[int(r() * len(spec.names))]
    if kind == "ifsi" and p.population >= 100_000 and r() < 0.5:
        name_t, raison_t = "Instituts de formation paramédicale du CHU de {ville}", "CHU de {ville}"
    name = name_t.format(**fmt)
    raison = raison_t.format(**fmt)
    siren = luhn_complete(str(1 + int(r() * 9)) + random_digits(r, 7))
    siret = luhn_complete(siren + "000" + random_digits(r, 1))
    d2 = p.dept[:2].replace("A", "0").replace("B", "0")
    nda = p.region + d2 + random_digits(r, 5) + d2  # déclaration d'activité: région, département, ordre
    host = invented_host(name_t, nom, p.city)
    phone = fiction_phone(p.region, r)
    address, short = _adresse_xml(p, r)
    contact = (
        f"<coordonnees><telfixe><numtel>{phone}</numtel></telfixe><courriel>contact@{host}</courriel></coordonnees>"
    )
    numero = f"DEMO-OF{number:06d}"
    uai = f"<code-UAI-organisme-formation><code-UAI>{_uai(p.dept, r)}</code-UAI></code-UAI-organisme-formation>"
    xml = (
        f'<organisme-formation-responsable numero="{numero}"><numero-activite>{nda}</numero-activite>'
        f"<SIRET-organisme-formation><SIRET>{siret}</SIRET></SIRET-organisme-formation>"
        f"<nom-organisme>{xml_text(name + DEMO_SUFFIX)}</nom-organisme>"
        f"<raison-sociale>{xml_text(raison + DEMO_SUFFIX)}</raison-sociale>"
        f"<coordonnees-organisme><coordonnees>{address}<telfixe><numtel>{phone}</numtel></telfixe>"
        f"<courriel>contact@{host}</courriel><web><urlweb>https://{host}/</urlweb></web></coordonnees>"
        f"</coordonnees-organisme><contact-organisme>{contact}</contact-organisme>"
        f"<renseignements-specifiques>Organisme fictif ({DEMO_LABEL}) : nom, SIRET, adresse et coordonnées "
        f"sont inventés.</renseignements-specifiques>{uai if spec.uai else ''}</organisme-formation-responsable>"
    )
    inscription = f"<adresse-inscription>{short}</adresse-inscription>"
    return _Organisme(numero, kind, p, xml, address, inscription, contact)


@dataclass(frozen=True)
class _CertXml:
    """Escaped text blocks of a certification, computed once per catalogue."""

    cert: Cert
    domaine: str
    head: str  # objectif, resultats, contenu, certifiante
    tail: str  # parcours, niveau d'entrée, objectif général, certification, niveau de sortie
    conditions: str
    recrutement: str
    org_types: Sampler[str]
    entry_required: int
    starts: tuple[tuple[date, ...], ...]  # candidate start dates (a few draws of the intake days)
    flexible: bool  # may be taught partly or fully at a distance


def _cert_xml(cert: Cert, today: date, r: Callable[[], float]) -> _CertXml:
    t = cert.tuning
    domaine = (
        "<domaine-formation>"
        + "".join(f"<code-FORMACODE>{f}</code-FORMACODE>" for f in t.formacodes[:5])
        + f"<code-NSF>{t.nsf}</code-NSF>"
        + "".join(f"<code-ROME>{c}</code-ROME>" for c in cert.rome[:5])
        + "</domaine-formation>"
    )
    level = f", certification de niveau {cert.level_eu}" if cert.level_eu else ""
    rncp = f" (fiche RNCP{cert.rncp})" if cert.rncp else ""
    objectif = cut_text(f"{cert.summary or cert.name}{DEMO_SUFFIX}", 3000)
    resultats = cut_text(f"Certification visée : {cert.name} ({cert.acronym}){level}{rncp}.{DEMO_SUFFIX}", 3000)
    hours = cert.hours_centre + cert.hours_company
    company = (
        f" et {thousands(cert.hours_company)} h de stage ou de période en entreprise" if cert.hours_company else ""
    )
    span = (
        f"{cert.months_min} mois"
        if cert.months_min == cert.months_max
        else (f"{cert.months_min} à {cert.months_max} mois")
    )
    contenu = cut_text(
        f"Formation de {thousands(hours)} h : {thousands(cert.hours_centre)} h d'enseignements en centre{company}, "
        f"sur {span} selon le parcours. Programme organisé par blocs de "
        f"compétences, évaluations en cours de formation et mises en situation professionnelle.{DEMO_SUFFIX}",
        3000,
    )
    head = (
        f"<objectif-formation>{xml_text(objectif)}</objectif-formation>"
        f"<resultats-attendus>{xml_text(resultats)}</resultats-attendus>"
        f"<contenu-formation>{xml_text(contenu)}</contenu-formation><certifiante>1</certifiante>"
    )
    sortie = {3: 4, 4: 5, 5: 6, 6: 7, 7: 8, 8: 8}.get(cert.level_eu or 0, 0)
    tail = (
        f"<parcours-de-formation>1</parcours-de-formation><code-niveau-entree>{t.entry}</code-niveau-entree>"
        f"<objectif-general-formation>6</objectif-general-formation>"
        + (f"<certification><code-RNCP>{cert.rncp}</code-RNCP></certification>" if cert.rncp else "")
        + f"<code-niveau-sortie>{sortie}</code-niveau-sortie>"
    )
    orgs = [(k, w) for k, w in t.orgs if k in ORG_TYPES] or [("prive", 1.0)]
    # Start dates within the next 18 months: the usual intake months (first Monday after a day drawn in
    # the first ten days of the month), or any Monday for courses that start all year round.
    first, last = today + timedelta(days=14), today + timedelta(days=HORIZON_DAYS)
    draws: list[tuple[date, ...]] = []
    if t.months:
        for _ in range(4):
            found: list[date] = []
            for year in (today.year, today.year + 1, today.year + 2):
                for m in sorted(set(t.months)):
                    d = date(year, m, 1) + timedelta(days=int(r() * 10))
                    d += timedelta(days=(7 - d.weekday()) % 7)
                    if first <= d <= last:
                        found.append(d)
            if found:
                draws.append(tuple(found))
    if not draws:
        monday = first + timedelta(days=(7 - first.weekday()) % 7)
        draws.append(tuple(monday + timedelta(weeks=w) for w in range((last - monday).days // 7 + 1)))
    return _CertXml(
        cert=cert,
        domaine=domaine,
        head=head,
        tail=tail,
        conditions=xml_text(cut_text(cert.prerequisites, 3000)),
        recrutement=xml_text(cut_text(cert.selection, 3000)),
        org_types=Sampler([k for k, _ in orgs], [w for _, w in orgs]),
        entry_required=1 if t.entry > 1 else 0,
        starts=tuple(draws),
        flexible=cert.distance or cert.slug in FLEXIBLE_CERTS,
    )


FLEXIBLE_CERTS = frozenset({"tp-sams", "tp-msads", "cqp-assistant-medical", "caferuis", "cafdes", "demf", "asg"})
_MODALITY_CODE = {"presentiel": 0, "mixte": 1, "distance": 2}
_MODALITY_FORMACODES = {"presentiel": ("96414",), "mixte": ("96414", "96129"), "distance": ("96128",)}
_PEDAGOGY = {
    "presentiel": "Cours, travaux dirigés et mises en situation en centre ; stages en structures.",
    "mixte": "Enseignements en centre et à distance (plateforme en ligne) ; stages en structures.",
    "distance": "Formation à distance avec tutorat ; regroupements ponctuels et stages en structures.",
}
_ACTION_VARIANTS = 8


@dataclass(frozen=True)
class _ActionVariant:
    """Everything in an action but its number, place and sessions; drawn a few times per kind of action."""

    head: str  # from rythme-formation to prise-en-charge-frais-possible
    mid: str  # modalites-entrees-sorties
    tail: str  # from the optional equipment texts to </action>
    session_mid: str  # modalites-inscription … <periode-inscription><periode>
    session_tail: str  # nombre de places … </session>
    months: int
    school_year: bool


def _action_variant(cb: _CertXml, org_type: str, route: str, modality: str, r: Callable[[], float]) -> _ActionVariant:
    cert = cb.cert
    t = cert.tuning
    spec = ORG_TYPES[org_type]
    months = cert.months_max if route == "apprentissage" or cert.kind == "bac_pro" else cert.months_min
    centre, company = cert.hours_centre, cert.hours_company
    if route == "apprentissage" and company == 0:
        company = centre // 2
    total = centre + company
    publics = [code for code, w in PUBLICS[route] if r() < w] or [PUBLICS[route][0][0]]
    prix_horaire: float | None = None
    if t.price is not None:
        prix_horaire = round(t.price[0] + r() * (t.price[1] - t.price[0]), 1)
    if route == "initiale":
        if org_type in ("lycee", "universite") or t.price is None:
            financeurs = [12] if org_type == "lycee" else [13, 10]
            frais = (
                "Gratuit : établissement public de l'Éducation nationale."
                if org_type == "lycee"
                else "Droits d'inscription universitaires annuels à la charge de l'étudiant."
            )
            prix_horaire = None
            conventionnement, perimetre = 0, 2 if org_type == "lycee" else 3
        else:
            financeurs = [2]
            frais = "Aucun frais de formation pour l'élève ou l'étudiant : coût pris en charge par la Région."
            conventionnement, perimetre = 1, 3
    elif route == "apprentissage":
        financeurs = [16, 5] if r() < 0.3 else [16]
        frais = "Aucun frais pour l'apprenti : coût pris en charge par l'opérateur de compétences (OPCO)."
        conventionnement, perimetre = 0, 3
        prix_horaire = prix_horaire or round(9 + r() * 4, 1)
    else:
        options = ((4, 0.45), (2, 0.35), (16, 0.3), (5, 0.2), (10, 0.2), (7, 0.05), (3, 0.05))
        financeurs = [code for code, w in options if r() < w] or [10]
        frais = "Reste à charge possible selon le financement mobilisé (CPF, employeur, France Travail, Région)."
        conventionnement, perimetre = (1 if 2 in financeurs or 4 in financeurs else 0), 3
        prix_horaire = prix_horaire or round(9 + r() * 5, 1)
    pec = 1 if any(f != 10 for f in financeurs) else 0
    low, high = (8, 24) if route == "apprentissage" else spec.places
    places = low + int(r() * (high - low + 1))
    if route == "apprentissage":
        rythme = "Alternance"
        alternance = (
            f"Contrat d'apprentissage ou de professionnalisation : {thousands(centre)} h en centre de formation, "
            "le reste du temps chez l'employeur (rythme indicatif : une semaine en centre, deux à trois semaines "
            "en structure)."
        )
    else:
        rythme = "Temps plein" if route == "initiale" or r() < 0.8 else "Temps partiel"
        alternance = (
            f"Alternance d'enseignements en centre ({thousands(centre)} h) et de stages en structures du secteur "
            f"({thousands(company)} h)."
            if company
            else "Sans période en entreprise."
        )
    if route == "initiale" and cert.parcoursup:
        inscription = "Candidature sur Parcoursup, puis entretien selon l'établissement."
    elif route == "initiale" and cert.kind == "bac_pro":
        inscription = "Affectation après la classe de troisième (procédure Affelnet) ou candidature en cours de cursus."
    elif route == "apprentissage":
        inscription = "Candidature auprès du centre ; signature d'un contrat avec un employeur avant l'entrée."
    else:
        inscription = "Dossier de candidature à déposer auprès de l'organisme, puis entretien."
    optional = ""
    if org_type == "lycee" and r() < 0.4:
        optional += "<hebergement>Internat</hebergement>"
    if r() < 0.5:
        optional += (
            "<acces-handicapes>Locaux accessibles ; aménagements étudiés avec le référent handicap.</acces-handicapes>"
        )
    money = ""
    if prix_horaire is not None:
        money = (
            f"<prix-horaire-TTC>{prix_horaire:.2f}</prix-horaire-TTC>"
            f"<prix-total-TTC>{round(prix_horaire * centre):.2f}</prix-total-TTC>"
        )
    main_funder = next((f for f in financeurs if f in (2, 4, 12, 16)), None)  # funds the places
    funders = "".join(
        f"<organisme-financeur><code-financeur>{f}</code-financeur>"
        + (f"<nb-places-financees>{places}</nb-places-financees>" if f == main_funder else "")
        + "</organisme-financeur>"
        for f in financeurs[:8]
    )
    detail = cut_text(
        "Financements possibles : " + ", ".join(FINANCEURS.get(f, "Autre") for f in financeurs) + ".", 600
    )
    head = (
        f"<rythme-formation>{rythme}</rythme-formation>"
        + "".join(f"<code-public-vise>{c}</code-public-vise>" for c in publics[:10])
        + f"<niveau-entree-obligatoire>{cb.entry_required}</niveau-entree-obligatoire>"
        f"<modalites-alternance>{xml_text(alternance)}</modalites-alternance>"
        f"<modalites-enseignement>{_MODALITY_CODE[modality]}</modalites-enseignement>"
        f"<conditions-specifiques>{cb.conditions}</conditions-specifiques>"
        f"<prise-en-charge-frais-possible>{pec}</prise-en-charge-frais-possible>"
    )
    permanent = 1 if not t.months and r() < 0.3 else 0
    # Eligible to the personal training account (CPF): most continuing-education actions leading to an
    # RNCP certification are; apprenticeship and initial training are funded otherwise.
    cpf = (
        '<extras info="eligibilite-cpf"><extra info="eligible">1</extra></extras>'
        if route == "continue" and cert.rncp and r() < 0.8
        else ""
    )
    mid = f"<modalites-entrees-sorties>{permanent}</modalites-entrees-sorties>\n"
    codes = _MODALITY_FORMACODES[modality] + (("96142",) if route == "apprentissage" else ())
    tail = (
        optional + "<langue-formation>fr</langue-formation>"
        f"<modalites-recrutement>{cb.recrutement}</modalites-recrutement>"
        f"<modalites-pedagogiques>{xml_text(_PEDAGOGY[modality])}</modalites-pedagogiques>"
        + "".join(f"<code-modalite-pedagogique>{c}</code-modalite-pedagogique>" for c in codes)
        + f"<frais-restants>{xml_text(frais)}</frais-restants>"
        f"<code-perimetre-recrutement>{perimetre}</code-perimetre-recrutement>{money}"
        f"<duree-indicative>{months} mois ({thousands(total)} h)</duree-indicative>"
        f"<nombre-heures-centre>{centre}</nombre-heures-centre>"
        f"<nombre-heures-entreprise>{company}</nombre-heures-entreprise>"
        f"<nombre-heures-total>{total}</nombre-heures-total>"
        f"<detail-conditions-prise-en-charge>{xml_text(detail)}</detail-conditions-prise-en-charge>"
        f"<conventionnement>{conventionnement}</conventionnement>{funders}{cpf}"
        f'<extras info="passerelles"><extra info="voie">{route}</extra>'
        f'<extra info="modalite">{modality}</extra></extras></action>\n'
    )
    return _ActionVariant(
        head=head,
        mid=mid,
        tail=tail,
        session_mid=f"<modalites-inscription>{xml_text(inscription)}</modalites-inscription><periode-inscription><periode>",
        session_tail=f'<extras info="session"><extra info="nombre-places">{places}</extra></extras></session>\n',
        months=months,
        school_year=t.months == (9,),  # September intake only: the course ends with the school year
    )


def write_lheo_catalogue(
    path: Path,
    *,
    sessions: int,
    seed: int = 1,
    today: date | None = None,
    data_dir: Path | None = None,
    reference_dir: Path | None = None,
) -> dict[str, int]:
    """Write an LHÉO 2.3 catalogue of exactly ``sessions`` demonstration sessions to ``path``.

    ``data_dir`` is the open-data directory (``geo_fr/``, ``rome_v460/``; default: settings), ``reference_dir``
    the project's YAML facts (default: settings). Same seed, size and ``today`` give the same bytes.
    Returns the counts ``{"organismes", "formations", "actions", "sessions"}``.
    """
    if sessions < 1:
        raise ValueError("sessions doit être au moins 1 (LHÉO exige au moins une formation)")
    today = today or date.today()
    world = load_world(*resolve_dirs(data_dir, reference_dir))
    geo = world.geo
    rnd = Random(f"passerelles-demo:lheo:{seed}")
    r = rnd.random
    cert_blocks = [_cert_xml(c, today, r) for c in world.certs]
    cert_sampler = Sampler(cert_blocks, [c.cert.tuning.weight for c in cert_blocks])

    # Organisation pools, sized from the expected sessions per organisation type, filled lazily: an
    # organisation drawn again offers another of its formations.
    total_weight = sum(c.cert.tuning.weight for c in cert_blocks)
    expected: dict[str, float] = {}
    for cb in cert_blocks:
        share = cb.cert.tuning.weight / total_weight
        orgs = [(k, w) for k, w in cb.cert.tuning.orgs if k in ORG_TYPES] or [("prive", 1.0)]
        org_total = sum(w for _, w in orgs)
        for kind, w in orgs:
            expected[kind] = expected.get(kind, 0.0) + sessions * share * w / org_total
    caps = {k: max(1, round(v / ORG_TYPES[k].sessions_per_org)) for k, v in expected.items()}
    scale = min(1.0, 50_000 / max(1, sum(caps.values())))
    caps = {k: max(1, int(v * scale)) for k, v in caps.items()}
    pools: dict[str, dict[int, _Organisme]] = {k: {} for k in caps}
    variants: dict[tuple[str, str, str, str], list[_ActionVariant | None]] = {}
    ymd_cache: dict[date, str] = {}

    def ymd(d: date) -> str:
        s = ymd_cache.get(d)
        if s is None:
            s = ymd_cache[d] = compact_date(d)
        return s

    n_org = n_formation = n_action = n_session = 0
    out = OutputFile(path)
    ok = False
    try:
        out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<lheo xmlns="{LHEO_NAMESPACE}">\n<offres>\n')
        while n_session < sessions:
            cb = cert_sampler.pick(r())
            cert = cb.cert
            kind = cb.org_types.pick(r())
            idx = int(r() * caps[kind])
            org = pools[kind].get(idx)
            if org is None:
                n_org += 1
                org = pools[kind][idx] = _new_organisme(world, kind, n_org, r)
            routes = [x for x in ORG_TYPES[kind].routes if x in cert.routes] or list(cert.routes)
            u = r()
            n_actions = 1 if u < 0.5 else (2 if u < 0.85 else 3)
            first_route = 0 if r() < 0.6 else int(r() * len(routes))
            n_formation += 1
            parts = [
                f'<formation numero="DEMO-F{n_formation:07d}">{cb.domaine}<intitule-formation>',
                "",  # title, known once the actions' routes are
                f"</intitule-formation>{cb.head}<contact-formation>{org.contact_xml}</contact-formation>{cb.tail}\n",
            ]
            action_routes: list[str] = []
            for a in range(n_actions):
                if n_session >= sessions:
                    break
                route = routes[(first_route + a) % len(routes)]
                u = r()
                if cb.flexible and route == "continue":
                    modality = "presentiel" if u < 0.65 else ("distance" if u >= 0.9 and cert.distance else "mixte")
                else:
                    modality = "presentiel" if u < 0.93 else "mixte"
                key = (cert.slug, kind, route, modality)
                slots = variants.get(key)
                if slots is None:
                    slots = variants[key] = [None] * _ACTION_VARIANTS
                v = int(r() * _ACTION_VARIANTS)
                variant = slots[v]
                if variant is None:
                    variant = slots[v] = _action_variant(cb, kind, route, modality, r)
                address = (
                    org.address_xml if r() >= 0.18 else _adresse_xml(geo.dept_sampler(org.place.dept).pick(r()), r)[0]
                )
                # Sessions: one to four intakes among the candidate start dates.
                candidates = cb.starts[int(r() * len(cb.starts))]
                k = min(1 + int(r() * 4), len(candidates), sessions - n_session)
                starts = sorted(_pick_distinct(r, list(candidates), k))
                n_action += 1
                action_routes.append(route)
                parts.append(f'<action numero="DEMO-A{n_action:07d}">{variant.head}<lieu-de-formation><coordonnees>')
                parts.append(address)
                parts.append(f"</coordonnees></lieu-de-formation>{variant.mid}")
                months = variant.months
                for start in starts:
                    n_session += 1
                    if variant.school_year:
                        end = date(start.year + max(1, (months + 11) // 12), 6, 20) + timedelta(days=int(r() * 14))
                    else:
                        end = add_months(start, months) - timedelta(days=3 + int(r() * 10))
                    open_from = start - timedelta(days=90 + int(r() * 120))
                    open_until = start - timedelta(days=7 + int(r() * 35))
                    # Recruitment: closed once registration has ended or, for the nearest sessions, when full.
                    u = r()
                    full = u < 0.25 and (start - today).days < 120
                    state = 2 if open_until < today or full else (3 if u > 0.96 else 1)
                    parts.append(
                        f'<session numero="DEMO-S{n_session:07d}"><periode><debut>{ymd(start)}</debut>'
                        f"<fin>{ymd(end)}</fin></periode>{org.inscription_xml}{variant.session_mid}"
                        f"<debut>{ymd(open_from)}</debut><fin>{ymd(open_until)}</fin></periode></periode-inscription>"
                        f"<etat-recrutement>{state}</etat-recrutement>{variant.session_tail}"
                    )
                parts.append(variant.tail)
            if all(x == "apprentissage" for x in action_routes):
                variant_title = " – par apprentissage"
            elif all(x == "continue" for x in action_routes):
                variant_title = " – formation continue"
            else:
                variant_title = ""
            parts[1] = xml_text(cut_text(f"{cert.name} ({cert.acronym}){variant_title}{DEMO_SUFFIX}", 255))
            parts.append(org.xml)
            parts.append(
                f'<extras info="passerelles"><extra info="demonstration">1</extra>'
                f'<extra info="certification">{cert.slug}</extra></extras></formation>\n'
            )
            out.write("".join(parts))
        out.write(
            f'</offres>\n<extras info="passerelles"><extra info="avertissement">Catalogue fictif ({DEMO_LABEL}) '
            f"généré par Passerelles pour les tests et les démonstrations.</extra>"
            f'<extra info="graine">{seed}</extra><extra info="date-de-reference">{today.isoformat()}</extra>'
            f"</extras>\n</lheo>\n"
        )
        ok = True
    finally:
        out.close(ok)
    return {"organismes": n_org, "formations": n_formation, "actions": n_action, "sessions": n_session}


def _pick_distinct(r: Callable[[], float], items: list[T], k: int) -> list[T]:
    k = min(k, len(items))
    for i in range(k):
        j = i + int(r() * (len(items) - i))
        items[i], items[j] = items[j], items[i]
    return items[:k]
