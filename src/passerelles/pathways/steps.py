"""A route the planner kept, in words: each step documented (the rule, the person's situation, the sources),
and a one-line summary of the route."""

from __future__ import annotations

from passerelles.pathways.planner import Partial, StepSpec
from passerelles.pathways.rules import Person, RuleBook, fmt_years
from passerelles.pathways.schemas import Reason, Route, Step
from passerelles.reference import schemas as rs

ROUTE_LABELS = {
    "initiale": "formation initiale",
    "continue": "formation continue",
    "apprentissage": "apprentissage",
    "distance": "à distance",
    "vae": "VAE",
}


def document_step(book: RuleBook, spec: StepSpec, person: Person) -> Step:
    """A step of a kept route, with why it is there (the rule, the person's situation) and its sources."""
    label = book.label(spec.certification) if spec.certification else ""
    if spec.kind == "equivalence":
        eq: rs.Equivalence = spec.rule
        return Step(
            kind="equivalence",
            title=f"Votre {book.label(eq.holder_of)} vaut {book.label(eq.gives)}",
            months=0,
            certification=eq.gives,
            why=[Reason(text=eq.text, sources=list(eq.sources))],
        )
    if spec.kind == "attente":
        return Step(
            kind="attente",
            title=f"Attendre d'avoir {spec.min_age} ans",
            months=spec.months,
            certification=spec.certification,
            why=[
                Reason(
                    text=f"L'entrée en formation au {label} demande {spec.min_age} ans au moins ; "
                    f"vous avez {person.age} ans.",
                    sources=list(spec.rule.sources),
                )
            ],
        )
    if spec.kind == "formation":
        cert = book.certs[spec.certification or ""]
        opt: rs.AdmissionOption = spec.rule
        why = [
            Reason(
                text=f"Admission : {opt.label}" + (f" ({opt.condition.note})" if opt.condition.note else ""),
                sources=list(opt.sources),
            )
        ]
        red = spec.reduction
        if red is not None:
            why.append(
                Reason(text=f"Parcours allégé ({book.label(red.holder_of)}) : {red.text}", sources=list(red.sources))
            )
        shortened = red is not None and red.months is not None and cert.months is not None and red.months < cert.months
        why.append(
            Reason(
                text=f"Durée : {cert.months_text}" + (f", ramenée à {spec.months:g} mois" if shortened else ""),
                sources=list(cert.duration_sources),
            )
        )
        return Step(
            kind="formation",
            title=f"Se former au {cert.name}",
            months=spec.months,
            certification=spec.certification,
            route=spec.route,
            why=why,
        )
    if spec.kind == "vae":
        rule: rs.VaeRule = spec.rule
        have = sum(person.experience.get(o, 0.0) for o in rule.experience_any)
        where = " ou ".join(book.label(o) for o in rule.experience_any if o in person.experience)
        why = [
            Reason(text=rule.text, sources=list(rule.sources)),
            Reason(
                text=f"Votre expérience : {fmt_years(have)} comme {where} "
                f"(minimum retenu : {fmt_years(rule.min_experience_years)})."
            ),
        ]
        if rule.partial_then_training:
            why.append(Reason(text="Une validation partielle se complète par une formation aux blocs manquants."))
        return Step(
            kind="vae",
            title=f"Obtenir le {label} par la VAE",
            months=spec.months,
            certification=spec.certification,
            route="vae",
            why=why,
        )
    acc: rs.AccessOption = spec.rule
    if spec.kind == "poste":
        reasons = [
            Reason(
                text=acc.label + (f" ({acc.condition.note})" if acc.condition.note else ""),
                sources=list(acc.sources),
            )
        ]
        return Step(
            kind="poste",
            title=f"Exercer comme {book.occupations.get(spec.occupation or '', spec.occupation)}",
            months=0,
            occupation=spec.occupation,
            why=reasons,
        )
    c = book.certs.get(spec.certification or "")
    within = f" dans les {acc.then_within_years} ans" if acc.then_within_years else ""
    return Step(
        kind="certification_en_poste",
        title=f"Obtenir en poste le {c.name if c else label}{within}",
        months=spec.months,
        certification=spec.certification,
        why=[Reason(text=acc.label, sources=list(acc.sources))],
    )


def summary(book: RuleBook, partial: Partial) -> str:
    parts = []
    for s in partial.steps:
        if s.kind == "formation":
            parts.append(f"{book.label(s.certification or '')} ({ROUTE_LABELS.get(s.route or '', s.route)})")
        elif s.kind == "vae":
            parts.append(f"{book.label(s.certification or '')} par VAE")
        elif s.kind == "equivalence":
            parts.append(f"équivalence {book.label(s.certification or '')}")
        elif s.kind == "attente":
            parts.append(f"attente {s.months:g} mois")
    summary = " → ".join(parts) if parts else "accès direct"
    later = [book.label(s.certification or "") for s in partial.steps if s.kind == "certification_en_poste"]
    return summary + "".join(f", puis {c} en poste" for c in later)


def document_route(book: RuleBook, person: Person, rank: int, target: str, partial: Partial) -> Route:
    """A kept route, each step documented (rule, sources)."""
    return Route(
        rank=rank,
        target=target,
        target_name=book.occupations.get(target, target),
        total_months=partial.months,
        steps=[document_step(book, s, person) for s in partial.steps],
        summary=summary(book, partial),
    )
