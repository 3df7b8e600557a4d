"""``write_offers``: job offers shaped like France Travail « Offres d'emploi v2 » (one JSON object per line,
or an array), for the sector's occupations and ROME codes, with contracts, working time, salaries,
employers and publication dates over the past 60 days."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from random import Random
from typing import Literal

from passerelles.demo import DEMO_LABEL
from passerelles.demo.tools import DEMO_SUFFIX, OutputFile, Sampler, invented_host, lower_first, masculine_form
from passerelles.demo.vocabulary import (
    FORMACODE_LABELS,
    FT_LEVELS,
    QUALIFICATIONS,
    RESIDENCE_NAMES,
    SMIC_MONTHLY,
    STRUCTURE_SHORT,
    STRUCTURES,
)
from passerelles.demo.world import Job, World, invented_address, load_world, resolve_dirs

OFFER_WINDOW_DAYS = 60  # offers were published during the past 60 days


_enc: Callable[[str], str] = json.encoder.encode_basestring  # C-accelerated, keeps non-ASCII as is
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass(frozen=True, slots=True)
class _Employer:
    structure: str
    opening: str  # JSON-escaped start of the offers' descriptions: "<name>, <intro> à <city>, recrute un(e) "
    lieu: str  # '"lieuTravail":{…}'
    entreprise: str  # '"entreprise":{…}'
    contact: str  # '"contact":{…}'
    naf: str  # '"codeNAF":…,"secteurActivite":…,"secteurActiviteLibelle":…'


def _new_employer(world: World, structure: str, r: Callable[[], float]) -> _Employer:
    geo = world.geo
    spec = STRUCTURES[structure]
    p = geo.pick(spec.min_pop, r)
    template = spec.names[int(r() * len(spec.names))]
    if structure == "hopital" and p.population >= 100_000 and r() < 0.4:
        template = "CHU de {ville}"
    nom = RESIDENCE_NAMES[int(r() * len(RESIDENCE_NAMES))]
    name = template.format(nom=nom, ville=p.city, dept=geo.dept_names.get(p.dept, p.dept))
    if structure == "ehpad":
        intro = f"établissement d'hébergement pour personnes âgées dépendantes de {40 + int(r() * 90)} lits"
    elif structure in ("hopital", "clinique", "hopital-psychiatrique", "usld"):
        beds = 30 + int(r() * min(1500.0, p.population / 60))  # a large hospital needs a large town
        intro = f"établissement de santé de {beds} lits et places"
    elif structure in ("ssiad", "saad"):
        intro = f"service à domicile accompagnant {60 + int(r() * 400)} personnes"
    elif structure == "creche":
        intro = f"établissement d'accueil du jeune enfant de {12 + int(r() * 50)} places"
    elif structure in ("ime", "iem", "mas", "fam", "foyer-de-vie", "mecs", "chrs", "esat"):
        intro = f"établissement médico-social de {20 + int(r() * 80)} places géré par une association"
    elif structure == "cabinet-infirmier":
        intro = f"cabinet de {2 + int(r() * 4)} infirmiers libéraux"
    else:
        intro = "structure du secteur sanitaire, social et médico-social"
    host = invented_host(template, nom, p.city)
    _street, postcode, lat, lon = invented_address(p, r)
    lieu = (
        f'"lieuTravail":{{"libelle":{_enc(f"{p.dept} - {p.name}")},"latitude":{round(lat, 6)!r},'
        f'"longitude":{round(lon, 6)!r},"codePostal":"{postcode}","commune":"{p.code}"}}'
    )
    entreprise = (
        f'"entreprise":{{"nom":{_enc(name + DEMO_SUFFIX)},'
        f'"description":{_enc(f"{name}, {intro}, à {p.city}. Employeur fictif ({DEMO_LABEL}).")},'
        '"entrepriseAdaptee":false}'
    )
    contact = (
        f'"contact":{{"nom":{_enc(f"{name} - Service des ressources humaines")},'
        f'"courriel":{_enc(f"recrutement@{host}")}}}'
    )
    naf = f'"codeNAF":"{spec.naf}","secteurActivite":"{spec.naf[:2]}","secteurActiviteLibelle":{_enc(spec.naf_label)}'
    opening = _enc(f"{name}, {intro} à {p.city}, recrute un(e) ")[1:-1]
    return _Employer(structure, opening, lieu, entreprise, contact, naf)


@dataclass(frozen=True)
class _JobPlan:
    """Pre-serialised parts of the offers of one occupation."""

    job: Job
    # JSON-escaped (title base, same lowered, appellation) and the '"romeCode":…' fragment
    appellations: Sampler[tuple[str, str, str, str]]
    activities: tuple[str, ...]  # JSON-escaped mission lines
    contracts: Sampler[str]
    qualification: str
    formations: str  # ',"formations":[…]' or ""
    formations_alternance: str
    profile: str  # JSON-escaped
    profile_alternance: str
    liberal: tuple[str, str, str, str] | None  # the appellation of a liberal practice, if the occupation has one


def _job_plan(job: Job) -> _JobPlan:
    items = [
        (
            _enc(masculine_form(label))[1:-1],
            _enc(lower_first(masculine_form(label)))[1:-1],
            _enc(label)[1:-1],
            f'"romeCode":"{code}","romeLibelle":{_enc(rome_label)},"appellationlibelle":{_enc(label)}',
        )
        for label, code, rome_label in job.appellations.items
    ]
    weights = job.appellations.weights()
    cert = job.cert
    formations = formations_alt = ""
    if cert is not None:
        code = cert.tuning.formacodes[0]
        common = {
            "codeFormation": code,
            "domaineLibelle": FORMACODE_LABELS.get(code, cert.acronym.lower()),
            "niveauLibelle": FT_LEVELS.get(cert.level_eu or 4, "Bac ou équivalent"),
            "commentaire": cert.acronym,
        }
        formations = ',"formations":' + _dumps([{**common, "exigence": "E" if job.cert_required else "S"}])
        formations_alt = ',"formations":' + _dumps([{**common, "exigence": "S"}])
        need = "exigé" if job.cert_required else "souhaité"
        profile = f"{cert.name} ({cert.acronym}) {need}."
        profile_alt = f"Vous préparez le {cert.name} ({cert.acronym}) en alternance avec notre structure."
    else:
        profile = profile_alt = "Une première expérience dans le secteur sanitaire ou médico-social est appréciée."
    q = job.tuning.qualification
    return _JobPlan(
        job=job,
        appellations=Sampler(items, weights),
        activities=tuple(_enc(a)[1:-1] for a in job.activities),
        contracts=Sampler(["CDI", "CDD", "MIS", "ALT", "LIB"], list(job.tuning.contracts)),
        qualification=f'"qualificationCode":"{q}","qualificationLibelle":{_enc(QUALIFICATIONS[q])}',
        formations=formations,
        formations_alternance=formations_alt,
        profile=_enc(profile)[1:-1],
        profile_alternance=_enc(profile_alt)[1:-1],
        liberal=next((item for item in items if "libéral" in item[2]), None),
    )


_HOURS_PART = ((17.5, 1.0), (20.0, 2.0), (24.0, 2.0), (28.0, 2.0), (30.0, 2.0), (32.0, 1.0))
_CDD_MONTHS = ((1, 2.0), (2, 2.0), (3, 3.0), (4, 1.0), (6, 3.0), (9, 0.5), (12, 1.5), (18, 0.3))
_MIS_MONTHS = ((1, 4.0), (2, 2.0), (3, 2.0), (6, 1.0))
_EXPERIENCE = (("D", "Débutant accepté", 0.55), ("S", "1 An(s)", 0.2), ("S", "6 Mois", 0.1), ("S", "2 An(s)", 0.05),
               ("E", "1 An(s)", 0.06), ("E", "2 An(s)", 0.03), ("E", "3 An(s)", 0.01))  # fmt: skip
DEMO_NOTICE = (
    f"Offre fictive ({DEMO_LABEL}) générée par Passerelles pour les tests et les démonstrations : ne pas postuler."
)


def _hours_label(h: float) -> str:
    whole = int(h)
    minutes = round((h - whole) * 60)
    return f"{whole}H{minutes:02d}" if minutes else f"{whole}H"


def _contract_fragment(kind: str, label: str, nature: str) -> str:
    return f'"typeContrat":"{kind}","typeContratLibelle":{_enc(label)},"natureContrat":{_enc(nature)}'


def write_offers(
    path: Path,
    *,
    offers: int,
    seed: int = 1,
    today: date | None = None,
    data_dir: Path | None = None,
    fmt: Literal["jsonl", "array"] = "jsonl",
    reference_dir: Path | None = None,
) -> dict[str, int]:
    """Write ``offers`` France Travail-shaped demonstration offers to ``path`` (JSON Lines, or one JSON array).

    Same seed, size, ``today`` and format give the same bytes. Returns ``{"offers", "employers"}``.
    """
    if offers < 0:
        raise ValueError("offers doit être positif ou nul")
    if fmt not in ("jsonl", "array"):
        raise ValueError("fmt doit valoir 'jsonl' ou 'array'")
    today = today or date.today()
    world = load_world(*resolve_dirs(data_dir, reference_dir))
    rnd = Random(f"passerelles-demo:offers:{seed}")
    r = rnd.random
    plans = [_job_plan(j) for j in world.jobs]
    jobs = Sampler(plans, [p.job.tuning.weight for p in plans])

    # Employer pools per structure type, sized from the expected number of offers (about 5 offers each).
    total_weight = sum(p.job.tuning.weight for p in plans)
    expected: dict[str, float] = {}
    for p in plans:
        items = p.job.structures.items
        sw = [STRUCTURES[s].weight for s in items]
        share = offers * p.job.tuning.weight / total_weight
        for s, w in zip(items, sw, strict=True):
            expected[s] = expected.get(s, 0.0) + share * w / sum(sw)
        lib = share * p.job.tuning.contracts[4] / sum(p.job.tuning.contracts)
        expected["cabinet-infirmier"] = expected.get("cabinet-infirmier", 0.0) + lib
    caps = {s: max(1, round(v / 5)) for s, v in expected.items()}
    scale = min(1.0, 40_000 / max(1, sum(caps.values())))
    caps = {s: max(1, int(v * scale)) for s, v in caps.items()}
    pools: dict[str, dict[int, _Employer]] = {s: {} for s in caps}
    n_employers = 0

    hours_part = Sampler([h for h, _ in _HOURS_PART], [w for _, w in _HOURS_PART])
    cdd_months = Sampler([m for m, _ in _CDD_MONTHS], [w for _, w in _CDD_MONTHS])
    mis_months = Sampler([m for m, _ in _MIS_MONTHS], [w for _, w in _MIS_MONTHS])
    experience = Sampler(
        [
            (
                f'"experienceExige":"{c}","experienceLibelle":{_enc(lab)}',
                c,
                _enc(
                    " Débutant(e) accepté(e)."
                    if c == "D"
                    else f" Expérience {'exigée' if c == 'E' else 'souhaitée'} : {lab.lower()}."
                )[1:-1],
            )
            for c, lab, _ in _EXPERIENCE
        ],
        [w for _, _, w in _EXPERIENCE],
    )
    notice = _enc(DEMO_NOTICE)[1:-1]
    beginner = experience.items[0]
    contracts_cdi = _contract_fragment("CDI", "Contrat à durée indéterminée", "Contrat travail")
    contracts_lib = _contract_fragment("LIB", "Profession libérale", "Emploi non salarié")
    contracts_cdd = {
        m: _contract_fragment("CDD", f"Contrat à durée déterminée - {m} Mois", "Contrat travail")
        for m, _ in _CDD_MONTHS
    }
    contracts_mis = {m: _contract_fragment("MIS", f"Intérim - {m} Mois", "Contrat travail") for m, _ in _MIS_MONTHS}
    contracts_alt = {
        (m, nature): _contract_fragment("CDD", f"Contrat à durée déterminée - {m} Mois", nature)
        for m in (12, 18, 24, 36)
        for nature in ("Contrat apprentissage", "Cont. professionnalisation")
    }
    durations: dict[tuple[float, str, bool], str] = {}
    days = [date.fromordinal(today.toordinal() - a).isoformat() for a in range(OFFER_WINDOW_DAYS)]
    clock: dict[int, str] = {}
    width = max(6, len(str(offers)))

    out = OutputFile(path)
    ok = False
    try:
        if fmt == "array":
            out.write("[")
        for n in range(1, offers + 1):
            plan = jobs.pick(r())
            job = plan.job
            tuning = job.tuning
            masc, masc_lower, appellation, rome_fragment = plan.appellations.pick(r())
            contract = plan.contracts.pick(r())
            if contract == "LIB" and plan.liberal is not None:
                masc, masc_lower, appellation, rome_fragment = plan.liberal
            structure = "cabinet-infirmier" if contract == "LIB" else job.structures.pick(r())
            idx = int(r() * caps[structure])
            emp = pools[structure].get(idx)
            if emp is None:
                n_employers += 1
                emp = pools[structure][idx] = _new_employer(world, structure, r)
            st = STRUCTURES[structure]
            # Contract.
            alternance = False
            if contract == "CDI":
                contract_fragment, phrase = contracts_cdi, "en CDI"
            elif contract == "CDD":
                m = cdd_months.pick(r())
                contract_fragment, phrase = contracts_cdd[m], f"en CDD de {m} mois"
            elif contract == "MIS":
                m = mis_months.pick(r())
                contract_fragment, phrase = contracts_mis[m], f"en mission d'intérim de {m} mois"
            elif contract == "LIB":
                contract_fragment, phrase = contracts_lib, "pour des remplacements en exercice libéral"
            else:
                alternance = True
                m = (12, 18, 24, 36)[int(r() * 4)]
                if r() < 0.75:
                    nature, phrase = "Contrat apprentissage", "en contrat d'apprentissage"
                else:
                    nature, phrase = "Cont. professionnalisation", "en contrat de professionnalisation"
                contract_fragment = contracts_alt[(m, nature)]
            # Working time and schedule.
            part_time = contract != "LIB" and r() < tuning.part_time_share
            if part_time:
                hours = hours_part.pick(r())
            else:
                u = r()
                hours = 35.0 if u < 0.85 else (37.5 if u < 0.93 else 39.0)
            night = job.nights and st.nights and r() < 0.18
            weekend = job.weekends and st.weekends and r() < 0.5
            u = r()
            if night:
                horaire = "Travail de nuit"
            elif weekend and u < 0.5:
                horaire = "Travail samedi et dimanche"
            else:
                horaire = "Horaires normaux" if u < 0.75 else ("Travail en journée" if u < 0.9 else "Travail en équipe")
            duration_key = (hours, horaire, part_time)
            duration = durations.get(duration_key)
            if duration is None:
                duration = durations[duration_key] = (
                    f'"dureeTravailLibelle":"{_hours_label(hours)} {horaire}",'
                    f'"dureeTravailLibelleConverti":"{"Temps partiel" if part_time else "Temps plein"}"'
                )
            # Salary, in France Travail's wording.
            if contract == "LIB":
                salaire = '{"commentaire":"Rétrocession d\'honoraires selon convention"}'
            elif alternance:
                pct = (0.53, 0.61, 0.78, 1.0)[int(r() * 4)]
                salaire = f'{{"libelle":"Mensuel de {SMIC_MONTHLY * pct:.2f} Euros sur 12 mois"}}'
            elif r() < 0.08:
                salaire = '{"commentaire":"Selon grille de la convention collective"}'
            else:
                lo, hi = tuning.pay
                base = lo + r() * (hi - lo) * 0.6
                top = base + 100 + r() * 400
                single = r() < 0.35
                v = r()
                if v < tuning.hourly_share:
                    unit, a, b, over = "Horaire", base / 151.67, top / 151.67, "12"
                elif v < tuning.hourly_share + tuning.annual_share and not part_time:
                    unit, a, b, over = "Annuel", round(base * 12, -2), round(top * 12, -2), "12"
                else:
                    ratio = hours / 35.0
                    unit, a, b = "Mensuel", round(base * ratio, -1), round(top * ratio, -1)
                    over = "13" if r() < 0.1 else "12"
                amount = f"{a:.2f} Euros" if single else f"{a:.2f} Euros à {b:.2f} Euros"
                extra = ',"complement1":"Mutuelle"' if r() < 0.4 else ""
                salaire = f'{{"libelle":"{unit} de {amount} sur {over} mois"{extra}}}'
            # Experience, title and description.
            exp_fragment, _exp_code, exp_text = beginner if alternance else experience.pick(r())
            if alternance:
                title = f"{masc} en alternance (H/F)"
            elif contract == "LIB":
                title = f"{masc} - remplacements (H/F)"
            elif night:
                title = f"{masc} de nuit (H/F)"
            elif r() < 0.3 and structure in STRUCTURE_SHORT:
                title = f"{masc} - {STRUCTURE_SHORT[structure]} (H/F)"
            else:
                title = appellation if r() < 0.3 else f"{masc} (H/F)"
            profile = plan.profile_alternance if alternance else plan.profile
            activities = plan.activities
            start = int(r() * len(activities))
            missions = "\\n".join(activities[start : start + 2 + int(r() * 2)])
            schedule = (
                f"temps partiel ({hours:g} h par semaine)".replace(".5 h", " h 30") if part_time else "temps plein"
            )
            if night:
                schedule += ", poste de nuit (21 h – 7 h) en roulement"
            if weekend:
                schedule += (
                    ", un week-end sur deux travaillé" if r() < 0.6 else ", travail les week-ends et jours fériés"
                )
            if structure in ("hopital", "clinique", "ehpad") and not night and r() < 0.3:
                schedule += ", journées de 12 h"
            description = (  # already JSON-escaped: "\\n" is a line break
                f"{emp.opening}{masc_lower} {phrase}.\\n\\nVos missions :\\n{missions}"
                f"\\n\\nProfil : {profile}{exp_text}\\n\\nConditions : {schedule}.\\n\\n{notice}"
            )
            # Dates (UTC) within the past 60 days; the update follows the creation.
            age = int(r() * OFFER_WINDOW_DAYS)
            c_sec = 25_200 + int(r() * 46_800)
            upd = int(r() * (age + 1) * 0.7)
            u_sec = 25_200 + int(r() * 46_800) if upd else min(86_399, c_sec + int(r() * 3600))
            c_clock = clock.get(c_sec)
            if c_clock is None:
                c_clock = clock[c_sec] = f"T{c_sec // 3600:02d}:{c_sec // 60 % 60:02d}:{c_sec % 60:02d}.000Z"
            u_clock = clock.get(u_sec)
            if u_clock is None:
                u_clock = clock[u_sec] = f"T{u_sec // 3600:02d}:{u_sec // 60 % 60:02d}:{u_sec % 60:02d}.000Z"
            postes = "1" if r() < 0.86 else str(2 + int(r() * 3))
            handi = "true" if r() < 0.08 else "false"
            if night and weekend:
                context = ',"contexteTravail":{"horaires":["Travail de nuit","Travail le week-end"]}'
            elif night:
                context = ',"contexteTravail":{"horaires":["Travail de nuit"]}'
            elif weekend:
                context = ',"contexteTravail":{"horaires":["Travail le week-end"]}'
            else:
                context = ""
            tension = "true" if r() < tuning.tension else "false"
            line = "".join(
                (
                    '{"id":"DEMO',
                    str(n).zfill(width),
                    '","intitule":"',
                    title,
                    '","description":"',
                    description,
                    '","dateCreation":"',
                    days[age],
                    c_clock,
                    '","dateActualisation":"',
                    days[age - upd],
                    u_clock,
                    '",',
                    emp.lieu,
                    ",",
                    rome_fragment,
                    ",",
                    emp.entreprise,
                    ",",
                    contract_fragment,
                    ",",
                    exp_fragment,
                    plan.formations_alternance if alternance else plan.formations,
                    ',"salaire":',
                    salaire,
                    ",",
                    duration,
                    ',"alternance":',
                    "true" if alternance else "false",
                    ",",
                    emp.contact,
                    ',"nombrePostes":',
                    postes,
                    ',"accessibleTH":',
                    handi,
                    ",",
                    plan.qualification,
                    ",",
                    emp.naf,
                    context,
                    ',"origineOffre":{"origine":"1"},"offresManqueCandidats":',
                    tension,
                    "}",
                )
            )
            if fmt == "array":
                out.write(("\n" if n == 1 else ",\n") + line)
            else:
                out.write(line + "\n")
        if fmt == "array":
            out.write("\n]\n" if offers else "]\n")
        ok = True
    finally:
        out.close(ok)
    return {"offers": offers, "employers": n_employers}
