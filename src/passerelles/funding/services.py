"""The funding simulator: from a person (age, situation, allowance, disability) and a training (a
certification, maybe a session and its cost), the combinations of who pays the training and what the
person lives on meanwhile, each line with its rule and numbered sources. The rules are data
(``data/funding.yaml``), read and validated once per version of the file. No HTTP here."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from passerelles.certifications.models import Certification
from passerelles.errors import reason
from passerelles.funding.rules import FundingBook
from passerelles.funding.schemas import (
    SITUATIONS,
    Amount,
    FundingCombination,
    FundingLine,
    FundingQuery,
    FundingResult,
    FundingRoute,
    RegionRule,
    Scheme,
    SourceNote,
    TrainingOut,
    When,
)
from passerelles.places.models import Commune, Departement, Region
from passerelles.trainings.models import TrainingSession

HOURS_A_MONTH = 140  # about 35 h a week, 4 weeks a month (as the route planner counts)


class FundingError(ValueError):
    """A query refused: the field (as the API names it) and the reason, in French."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# ---------------------------------------------------------------- the simulator


@dataclass(frozen=True)
class Training:
    slug: str
    name: str
    acronym: str | None
    level: int | None
    months: float | None
    months_text: str
    routes: frozenset[str]
    sanitary_social: bool


def find_certification(session: Session, code: str) -> Certification | None:
    """A certification by its identifier or its acronym (case and spaces ignored)."""
    text = code.strip()
    if not text:
        return None
    row = session.scalar(select(Certification).where(Certification.slug == text.lower()))
    if row is not None:
        return row
    return session.scalars(
        select(Certification)
        .where(or_(func.lower(Certification.acronym) == text.lower(), func.lower(Certification.name) == text.lower()))
        .order_by(Certification.status, Certification.slug)
    ).first()


def _months(cert: Certification) -> tuple[float | None, str]:
    lo, hi, hours = cert.months_min, cert.months_max, cert.duration_hours
    if lo:
        return float(lo), f"{lo} à {hi} mois" if hi and hi != lo else f"{lo} mois"
    if hours:
        months = max(round(hours / HOURS_A_MONTH), 1)
        return float(months), f"{hours} heures (environ {months} mois)"
    if hi:
        return float(hi), f"jusqu'à {hi} mois"
    return None, "durée non précisée"


def training_of(book: FundingBook, cert: Certification) -> Training:
    months, text = _months(cert)
    return Training(
        slug=cert.slug,
        name=cert.name,
        acronym=cert.acronym,
        level=cert.level_eu,
        months=months,
        months_text=text,
        routes=frozenset(r.route for r in cert.routes if r.available),
        sanitary_social=cert.slug in book.rules.sanitary_social.certifications,
    )


@dataclass(frozen=True)
class Person:
    age: int
    situation: str
    indemnise: bool
    handicap: bool
    region: str | None
    salary: float | None
    cpf_balance: float | None = None


def holds(when: When, person: Person, training: Training, route: str) -> bool:
    if when.situations and person.situation not in when.situations:
        return False
    if when.indemnise is not None and when.indemnise != (person.indemnise and person.situation == "demandeur-emploi"):
        return False
    if when.travailleur_handicape is not None and when.travailleur_handicape != person.handicap:
        return False
    if when.sanitary_social is not None and when.sanitary_social != training.sanitary_social:
        return False
    if when.routes and route not in when.routes:
        return False
    if when.max_level is not None and training.level is not None and training.level > when.max_level:
        return False
    if when.min_age is not None and person.age < when.min_age:
        return False
    return not (
        when.max_age is not None
        and person.age > when.max_age
        and not (when.max_age_waived_if_handicap and person.handicap)
    )


def eur(value: float) -> str:
    """1823.03 → « 1 823,03 € » (whole euros without decimals)."""
    text = f"{value:,.2f}".replace(",", "\u202f").replace(".", ",")
    return text.removesuffix(",00") + "\u00a0€"


def _ordinal(n: int) -> str:
    return "1re" if n == 1 else f"{n}e"


class _Notes:
    """Source notes numbered in their order of first citation."""

    def __init__(self, book: FundingBook) -> None:
        self.book = book
        self.numbers: dict[str, int] = {}

    def cite(self, ids: list[str]) -> list[int]:
        out = []
        for sid in ids:
            if sid not in self.numbers:
                self.numbers[sid] = len(self.numbers) + 1
            if self.numbers[sid] not in out:
                out.append(self.numbers[sid])
        return out

    def notes(self) -> list[SourceNote]:
        result = []
        for sid, number in self.numbers.items():
            src = self.book.sources[sid]
            result.append(
                SourceNote(number=number, title=src.title, publisher=src.publisher, date=src.date, url=src.url)
            )
        return result


COVERS = {
    "full": "Les frais de formation",
    "partial": "La formation, moins une participation",
    "remainder": "Ce qui reste à payer",
    "balance": "Jusqu'au solde de votre compte",
    "topup": "Un complément au-delà de votre solde, d'un montant fixé par le financeur",
    "unknown": "Selon le financeur",
}


def _tuition_line(
    scheme: Scheme, person: Person, training: Training, notes: _Notes, book: FundingBook, cost: float | None = None
) -> tuple[FundingLine, str, float]:
    """The line of a payer of the training, what it covers and the fixed sum left to the person."""
    text, conditions, sources = scheme.text, list(scheme.conditions), list(scheme.sources)
    covers = scheme.covers or "unknown"
    fixed = 0.0
    region_rule = None
    for rule in scheme.regions:
        if rule.region != person.region:
            continue
        if rule.certifications and training.slug not in rule.certifications:
            continue
        if rule.situations and person.situation not in rule.situations:
            continue
        text, conditions, sources = rule.text, list(rule.conditions) or conditions, list(rule.sources)
        covers = rule.covers or covers
        fixed += rule.participation_eur or 0.0
        region_rule = rule
        break
    amount_text = None
    if scheme.cpf_participation and person.situation != "demandeur-emploi":
        amount, year, cited = book.cpf_participation()
        fixed += amount
        sources += cited
        amount_text = (
            f"Participation forfaitaire à votre charge : {eur(amount)} (montant {year}, revalorisé chaque "
            "1er janvier), sauf si votre employeur complète le financement."
        )
    elif scheme.cpf_participation:
        amount_text = "Pas de participation forfaitaire : les demandeurs d'emploi en sont exonérés."
    if fixed and not scheme.cpf_participation:
        amount_text = f"Participation à votre charge : {eur(fixed)}."
    amount_eur = None
    if covers == "balance" and person.cpf_balance is not None:
        amount_eur = round(person.cpf_balance if cost is None else min(person.cpf_balance, cost), 2)
        used = f"Votre compte paie {eur(amount_eur)}"
        used += " (tout votre solde)." if cost is None or person.cpf_balance <= cost else " (le prix de la formation)."
        amount_text = f"{used} {amount_text}" if amount_text else used
    elif covers == "topup" and person.cpf_balance is not None and cost is not None:
        amount_eur = round(max(cost - person.cpf_balance, 0.0), 2)
        amount_text = (
            f"À demander : {eur(amount_eur)} (le prix de la formation moins votre solde)."
            if amount_eur
            else "Pas besoin d'abondement : votre solde couvre le prix de la formation."
        )
        if amount_eur and region_rule is not None:
            amount_text += _region_topup_text(region_rule, person.cpf_balance, amount_eur)
    line = FundingLine(
        scheme=scheme.id,
        name=scheme.name,
        payer=scheme.payer,
        text=text,
        covers=COVERS[covers],
        amount_eur=amount_eur,
        amount_text=amount_text,
        conditions=conditions,
        notes=notes.cite(sources),
    )
    return line, covers, fixed


def _region_topup_text(rule: RegionRule, balance: float, asked: float) -> str:
    """What a Région's own abondement rule says of this case: its ceiling and the balance it asks for."""
    if rule.min_cpf_balance_eur is not None and balance < rule.min_cpf_balance_eur:
        return (
            f" La Région n'abonde qu'un compte d'au moins {eur(rule.min_cpf_balance_eur)} : "
            "reste la demande à France Travail."
        )
    if rule.max_eur is None:
        return ""
    if asked <= rule.max_eur:
        return f" La Région peut payer toute cette somme (elle abonde jusqu'à {eur(rule.max_eur)})."
    return (
        f" La Région abonde jusqu'à {eur(rule.max_eur)} : au moins {eur(round(asked - rule.max_eur, 2))} "
        "seraient à trouver ailleurs (France Travail, vous-même)."
    )


def _income_line(scheme: Scheme, person: Person, training: Training, notes: _Notes, book: FundingBook) -> FundingLine:
    sources = list(scheme.sources)
    text = scheme.text
    monthly, amount_text = _monthly(scheme.amount, person, training, book, sources)
    if scheme.handicap and person.handicap:
        amount_text = f"{amount_text} {scheme.handicap.text}" if amount_text else scheme.handicap.text
        sources += scheme.handicap.sources
    for rule in scheme.regions:
        if rule.region == person.region and (not rule.situations or person.situation in rule.situations):
            text = f"{text} {rule.text}"
            sources += rule.sources
            break
    return FundingLine(
        scheme=scheme.id,
        name=scheme.name,
        payer=scheme.payer,
        text=text,
        monthly_eur=monthly,
        amount_text=amount_text,
        conditions=list(scheme.conditions),
        notes=notes.cite(sources),
    )


def contract_years(months: float | None) -> int:
    """Years of an apprenticeship contract for a training of ``months`` (1 to 3)."""
    if not months:
        return 1
    return min(max(math.ceil(months / 12), 1), 3)


def apprentice_pay(amount: Amount, age: int, year: int, smic: float) -> tuple[int, float]:
    """The legal minimum (percent of the Smic, euros a month) for an apprentice of ``age`` in ``year``."""
    row = next(r for r in amount.grid if r.min_age <= age and (r.max_age is None or age <= r.max_age))
    percent = row.percent[min(year, 3) - 1]
    return percent, round(smic * percent / 100, 2)


def _monthly(
    amount: Amount | None, person: Person, training: Training, book: FundingBook, sources: list[str]
) -> tuple[float | None, str | None]:
    if amount is None:
        return None, None
    if amount.kind == "by_age":
        for band in amount.bands:
            if band.min_age <= person.age and (band.max_age is None or person.age <= band.max_age):
                sources += band.sources
                return band.monthly_eur, band.text
        return None, amount.text
    if amount.kind == "smic_grid":
        smic = book.rules.smic
        sources += smic.sources
        parts, first = [], None
        for year in range(1, contract_years(training.months) + 1):
            percent, value = apprentice_pay(amount, person.age, year, smic.monthly_gross_eur)
            first = value if first is None else first
            parts.append(f"{_ordinal(year)} année : {percent} % du Smic, soit {eur(value)} brut par mois")
        return first, (
            "; ".join(parts) + f" (Smic de {eur(smic.monthly_gross_eur)} brut par mois depuis le "
            f"{_date_fr(smic.since)}). {amount.text}"
        )
    if amount.kind == "salary_share":
        if person.salary is None or amount.full_up_to_smic is None:
            return None, amount.text
        smic = book.rules.smic
        sources += smic.sources
        ceiling = amount.full_up_to_smic * smic.monthly_gross_eur
        if person.salary <= ceiling:
            return round(person.salary, 2), (
                f"Votre salaire de {eur(person.salary)} brut est sous 2 Smic ({eur(ceiling)}) : "
                f"il est maintenu en entier. {amount.text}"
            )
        first = round(person.salary * (amount.above_first_year_percent or 0) / 100, 2)
        later = round(person.salary * (amount.above_later_percent or 0) / 100, 2)
        text = (
            f"Votre salaire de {eur(person.salary)} brut dépasse 2 Smic ({eur(ceiling)}) : "
            f"{eur(first)} brut par mois la première année"
        )
        if training.months and training.months > 12:
            text += f", puis {eur(later)}"
        return first, f"{text}. {amount.text}"
    return None, amount.text  # calculated, ceiling: the payer computes it


MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def _date_fr(iso: str) -> str:
    y, m, d = (int(p) for p in iso.split("-"))
    return f"{'1er' if d == 1 else d} {MONTHS_FR[m - 1]} {y}"


def _remaining(
    covers: list[str], fixed: float, cost: float | None, cpf_fixed: bool, balance: float | None = None
) -> tuple[float | None, str]:
    """What is left to pay after the payers of a combination, in the order they pay."""
    if (
        "balance" in covers
        and balance is not None
        and cost is not None
        and not {"full", "partial", "unknown"} & set(covers)
    ):
        beyond = round(max(cost - balance, 0.0), 2)  # the part of the price the CPF balance leaves
        if not beyond:
            total = round(fixed, 2)
            tail = f" plus {eur(fixed)} de participation forfaitaire CPF" if fixed else ""
            return total, f"{eur(total)} : votre solde CPF couvre le prix de la formation{tail}."
        if "remainder" in covers:
            return round(fixed, 2), f"{eur(fixed)} si le financement est accordé (il paie les {eur(beyond)} restants)."
        if "topup" in covers:
            return None, (
                f"Au plus {eur(beyond)} (le prix moins votre solde CPF), moins l'abondement accordé : "
                "0 € s'il couvre toute cette somme."
            )
        total = round(beyond + fixed, 2)
        tail = f" plus {eur(fixed)} de participation forfaitaire CPF" if fixed else ""
        return total, f"{eur(total)} : le prix moins votre solde CPF{tail}."
    open_part = cost is None  # unknown cost: unknown until a payer covers everything
    unknown = False
    for c in covers:
        if c in ("full", "partial", "remainder"):
            open_part, unknown = False, False
        elif c in ("balance", "topup"):
            unknown = True
        else:  # unknown
            unknown = True
    if unknown:
        what = "du financeur et du diplôme visé"
        if "balance" in covers:
            what = "du solde de votre CPF" + (" et de l'abondement accordé" if "topup" in covers else "")
        text = f"Inconnu : dépend {what}"
        if cost is not None:
            text += f" (coût de la formation : {eur(cost)})"
        if fixed:
            text += f", plus {eur(fixed)} de participation"
        return None, text + "."
    if open_part:
        return None, "Inconnu : le coût de la formation n'est pas connu."
    if fixed:
        label = "participation forfaitaire CPF" if cpf_fixed else "participation demandée par la Région"
        return round(fixed, 2), f"{eur(fixed)} ({label})."
    return 0.0, "0 € si le financement est accordé."


def simulate(session: Session, book: FundingBook, query: FundingQuery) -> FundingResult:
    """The combinations of funding for ``query``; raises :class:`FundingError` naming the field refused."""
    cert = find_certification(session, query.certification)
    if cert is None:
        raise FundingError("certification", f"certification inconnue : « {query.certification[:80]} »")
    region_code = query.region
    if region_code is not None and session.get(Region, region_code) is None:
        raise FundingError("region", f"région inconnue : « {region_code} » (code INSEE à deux chiffres)")
    cost: float | None = None
    session_is_demo = False
    cost_text = "Coût non connu : choisissez une session pour le connaître."
    if query.session is not None:
        ts = session.get(TrainingSession, query.session)
        if ts is None:
            raise FundingError("session", f"session de formation introuvable : {query.session}")
        if ts.certification_id != cert.id:
            raise FundingError("session", "cette session ne prépare pas la certification choisie")
        session_is_demo = ts.is_demo
        if region_code is None and ts.commune_code:  # the Région where the training takes place
            region_code = session.scalar(
                select(Departement.region_code)
                .join(Commune, Commune.departement_code == Departement.code)
                .where(Commune.code_insee == ts.commune_code)
            )
        if ts.cost_eur is not None:
            cost = float(ts.cost_eur)
            cost_text = f"{eur(cost)} (coût annoncé pour cette session)"
        else:
            cost_text = "Coût non précisé par l'organisme pour cette session."
    region = session.get(Region, region_code) if region_code else None
    training = training_of(book, cert)
    route: FundingRoute = "vae" if query.vae else "apprentissage" if query.situation == "apprenti" else "formation"
    person = Person(
        age=query.age,
        situation=query.situation,
        indemnise=query.indemnise and query.situation == "demandeur-emploi",
        handicap=query.travailleur_handicape,
        region=region_code,
        salary=query.salaire,
        cpf_balance=query.solde_cpf,
    )
    warnings = _warnings(person, training, route, cert.status)
    notes = _Notes(book)
    schemes = book.schemes
    applicable = [
        c for c in book.rules.combinations if all(holds(schemes[s].when, person, training, route) for s in c.tuition)
    ]
    # A combination whose payers are all in another one shown is left out (« CPF seul » beside « CPF + AIF »).
    sets = [frozenset(c.tuition) for c in applicable]
    shown = [c for c, s in zip(applicable, sets, strict=True) if not any(s < other for other in sets)]
    combinations = []
    for combo in shown:
        tuition, covers, fixed, cpf_fixed = [], [], 0.0, False
        for sid in combo.tuition:
            line, cover, extra = _tuition_line(schemes[sid], person, training, notes, book, cost)
            tuition.append(line)
            covers.append(cover)
            fixed += extra
            cpf_fixed = cpf_fixed or (schemes[sid].cpf_participation and extra > 0)
        income = [
            _income_line(schemes[sid], person, training, notes, book)
            for sid in combo.income
            if holds(schemes[sid].when, person, training, route)
            and (not schemes[sid].when.schemes or set(schemes[sid].when.schemes) & set(combo.tuition))
        ]
        remaining_eur, remaining_text = _remaining(covers, fixed, cost, cpf_fixed, person.cpf_balance)
        monthly = next((i.monthly_eur for i in income if i.monthly_eur is not None), None)
        if monthly is not None:
            income_text = f"{eur(monthly)} par mois"
        elif income:
            income_text = income[0].amount_text or income[0].name
        else:
            income_text = "Aucun revenu prévu par ce financement."
        combinations.append(
            FundingCombination(
                id=combo.id,
                title=combo.title,
                tuition=tuition,
                income=income,
                remaining_eur=remaining_eur,
                remaining_text=remaining_text,
                income_text=income_text,
                monthly_income_eur=monthly,
            )
        )
    if not combinations:
        warnings.append("Aucun financement connu ne correspond à cette situation : parlez-en à un conseiller.")
    return FundingResult(
        query=query,
        situation_label=SITUATIONS[query.situation],
        region=region_code,
        region_name=region.name if region else None,
        training=TrainingOut(
            slug=training.slug,
            name=training.name,
            acronym=training.acronym,
            level=training.level,
            months=training.months,
            months_text=training.months_text,
            sanitary_social=training.sanitary_social,
            route=route,
            cost_eur=cost,
            cost_text=cost_text,
            session=query.session,
            session_is_demo=session_is_demo,
        ),
        combinations=combinations,
        warnings=warnings,
        sources=notes.notes(),
    )


def _warnings(person: Person, training: Training, route: str, status: str) -> list[str]:
    out = []
    if status != "active":
        out.append("Ce diplôme n'est plus délivré : vérifiez le diplôme qui le remplace.")
    if route == "apprentissage" and person.age > 29 and not person.handicap:
        out.append(
            "L'apprentissage est ouvert jusqu'à 29 ans révolus, sans limite d'âge pour une personne reconnue "
            "travailleur handicapé (et dans quelques autres cas)."
        )
    if route == "apprentissage" and training.routes and "apprentissage" not in training.routes:
        out.append("Ce diplôme n'est pas indiqué comme préparé en apprentissage.")
    if route == "vae" and "vae" not in training.routes:
        out.append("Ce diplôme n'est pas indiqué comme accessible par la VAE.")
    return out


DEFAULT_PROFILE: dict[str, Any] = {"age": 30, "situation": "demandeur-emploi"}
PROFILE_FIELDS = ("age", "situation", "indemnise", "travailleur_handicape", "salaire")


def profile_of(params: Any) -> tuple[dict[str, Any], bool]:
    """The person's fields given in a page's address (``age``, ``situation``…), else the default profile;
    the flag says whether the default is used."""
    given = {k: params.get(k) for k in PROFILE_FIELDS if (params.get(k) or "").strip()}
    if "age" in given and "situation" in given:
        return given, False
    return dict(DEFAULT_PROFILE), True


def session_funding(
    session: Session, book: FundingBook, session_id: int, certification: str | None, profile: dict[str, Any]
) -> FundingResult | None:
    """The funding of one session for a profile (the comparison's rows); None when the session prepares no
    known certification or the profile is refused."""
    if certification is None:
        return None
    try:
        return simulate_fields(session, book, {**profile, "certification": certification, "session": session_id})
    except FundingError:
        return None


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """pydantic's errors on a query as the one error shape's details (field, French reason)."""
    return [{"field": ".".join(str(p) for p in e["loc"]) or "requête", "reason": reason(e)} for e in exc.errors()]


def simulate_fields(session: Session, book: FundingBook, data: dict[str, Any]) -> FundingResult:
    """Validate raw fields then simulate; every refusal is a :class:`FundingError` naming its field."""
    try:
        query = FundingQuery.model_validate(data)
    except ValidationError as exc:
        first = field_errors(exc)[0]
        raise FundingError(first["field"], first["reason"]) from None
    return simulate(session, book, query)
