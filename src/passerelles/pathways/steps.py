"""A route the planner kept, in words: each step documented (the rule, the person's situation, the sources)
in plain French and in the order things happen, and a one-line summary of the route."""

from __future__ import annotations

from passerelles.pathways.planner import Partial, StepSpec
from passerelles.pathways.rules import Person, RuleBook, years_text
from passerelles.pathways.schemas import Reason, Route, Stage, Step
from passerelles.reference import schemas as rs

ROUTE_LABELS = {
    "initiale": "formation initiale",
    "continue": "formation continue",
    "apprentissage": "apprentissage",
    "distance": "à distance",
    "vae": "VAE",
}


def months_text(months: float) -> str:
    """``10 mois``, ``1 mois``, ``moins d'un mois`` — a duration as said."""
    if months <= 0:
        return "sans délai"
    if months < 1:
        return "moins d'un mois"
    return f"{round(months, 1):g} mois"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _occupation(book: RuleBook, slug: str | None) -> str:
    return book.occupations.get(slug or "", "ce métier")


def document_step(book: RuleBook, spec: StepSpec, person: Person, *, then_in_post: bool = False) -> Step:
    """A step of a kept route, with why it is there (the rule, the person's situation) and its sources."""
    label = book.label(spec.certification) if spec.certification else ""
    if spec.kind == "equivalence":
        eq: rs.Equivalence = spec.rule
        return Step(
            kind="equivalence",
            title=f"Votre {book.label(eq.holder_of)} vaut {book.label(eq.gives)}",
            months=0,
            certification=eq.gives,
            why=[Reason(text=_sentence(eq.text), sources=list(eq.sources))],
        )
    if spec.kind == "attente":
        return Step(
            kind="attente",
            title=f"Attendre d'avoir {spec.min_age} ans",
            months=spec.months,
            certification=spec.certification,
            why=[
                Reason(
                    text=f"On entre en formation au {label} à partir de {spec.min_age} ans ; "
                    f"vous avez {person.age} ans aujourd'hui.",
                    sources=list(spec.rule.sources),
                )
            ],
        )
    if spec.kind == "formation":
        cert = book.certs[spec.certification or ""]
        opt: rs.AdmissionOption = spec.rule
        why = [
            Reason(
                text=f"Entrée en formation — {_sentence(opt.label)}"
                + (f" {_sentence(opt.condition.note)}" if opt.condition.note else ""),
                sources=list(opt.sources),
            )
        ]
        red = spec.reduction
        if red is not None:
            why.append(
                Reason(
                    text=f"Parcours allégé grâce à votre {book.label(red.holder_of)} : {_sentence(red.text)}",
                    sources=list(red.sources),
                )
            )
        shortened = red is not None and red.months is not None and cert.months is not None and red.months < cert.months
        duration = (
            f"La formation dure {cert.months_text}"
            if cert.months is not None
            else "La durée de la formation n'est pas précisée ; le parcours compte un an"
        )
        why.append(
            Reason(
                text=duration + (f" ; pour vous, environ {spec.months:g} mois." if shortened else "."),
                sources=list(cert.duration_sources),
            )
        )
        return Step(
            kind="formation",
            title=f"Se former au {cert.name[:1].lower()}{cert.name[1:]}",
            months=spec.months,
            certification=spec.certification,
            route=spec.route,
            why=why,
        )
    if spec.kind == "vae":
        rule: rs.VaeRule = spec.rule
        have = sum(person.experience.get(o, 0.0) for o in rule.experience_any)
        where = [_occupation(book, o).lower() for o in rule.experience_any if o in person.experience]
        minimum = (
            f"le repère retenu ici est de {years_text(rule.min_experience_years)}"
            if rule.min_experience_years
            else "aucune durée minimale n'est exigée"
        )
        why = [
            Reason(text=_sentence(rule.text), sources=list(rule.sources)),
            Reason(
                text=f"Vous déclarez {years_text(have)} d'expérience comme {' et '.join(where)} ; {minimum}."
                if where
                else f"Votre expérience doit correspondre aux activités du diplôme ; {minimum}."
            ),
        ]
        if rule.partial_then_training:
            why.append(
                Reason(text="En cas de validation partielle, les blocs manquants se complètent par une formation.")
            )
        return Step(
            kind="vae",
            title=f"Obtenir le {label} par la VAE (validation des acquis de l'expérience)",
            months=spec.months,
            certification=spec.certification,
            route="vae",
            why=why,
            stages=[
                Stage(title=st.title, text=st.text, optional=st.optional, sources=list(st.sources))
                for st in book.vae_stages
            ],
        )
    acc: rs.AccessOption = spec.rule
    job = _occupation(book, spec.occupation)
    if spec.kind == "poste":
        note = f" {_sentence(acc.condition.note)}" if acc.condition.note else ""
        return Step(
            kind="poste",
            title=f"Être recruté comme {job.lower()}" if then_in_post else f"Exercer comme {job.lower()}",
            months=0,
            occupation=spec.occupation,
            why=[Reason(text=f"Accès au poste — {_sentence(acc.label)}{note}", sources=list(acc.sources))],
        )
    within = f", dans les {acc.then_within_years} ans qui suivent l'embauche" if acc.then_within_years else ""
    if spec.kind == "formation_obligatoire":
        training = acc.training
        assert training is not None
        when = f", dans les {training.within_years} ans qui suivent l'embauche" if training.within_years else ""
        hours = f" ({training.hours} h)" if training.hours else ""
        return Step(
            kind="formation_obligatoire",
            title=(
                f"Suivre en poste la {training.name[:1].lower()}{training.name[1:]}{when}"
                if training.after_hiring
                else f"Suivre la {training.name[:1].lower()}{training.name[1:]} avant l'embauche"
            ),
            months=spec.months,
            occupation=spec.occupation,
            why=[
                Reason(text=_sentence(training.text), sources=list(training.sources)),
                Reason(text=f"Le parcours compte environ {months_text(spec.months)}{hours} pour cette formation."),
            ],
        )
    c = book.certs.get(spec.certification or "")
    return Step(
        kind="certification_en_poste",
        title=f"Obtenir en poste : {c.name if c else label}{within}",
        months=spec.months,
        certification=spec.certification,
        why=[
            Reason(text=f"Accès au poste — {_sentence(acc.label)}", sources=list(acc.sources)),
            Reason(
                text=f"La formation dure {c.months_text}." if c else "Durée de la formation non précisée.",
                sources=list(c.duration_sources) if c else [],
            ),
        ],
    )


def summary(book: RuleBook, partial: Partial) -> str:
    parts: list[str] = []
    later: list[str] = []
    for s in partial.steps:
        if s.kind == "formation":
            parts.append(f"{book.label(s.certification or '')} ({ROUTE_LABELS.get(s.route or '', s.route)})")
        elif s.kind == "vae":
            parts.append(f"{book.label(s.certification or '')} par VAE")
        elif s.kind == "equivalence":
            parts.append(f"équivalence {book.label(s.certification or '')}")
        elif s.kind == "attente":
            parts.append(f"attente {s.months:g} mois")
        elif s.kind == "formation_obligatoire":
            training = s.rule.training
            name = training.name[:1].lower() + training.name[1:]
            (later if training.after_hiring else parts).append(name)
        elif s.kind == "certification_en_poste":
            later.append(book.label(s.certification or ""))
    text = " → ".join(parts) if parts else "accès direct"
    return text + "".join(f", puis {c} en poste" for c in later)


def short_title(book: RuleBook, spec: StepSpec) -> str:
    """A few words for the timeline (the ordered list beside it says the step in full)."""
    label = book.label(spec.certification) if spec.certification else ""
    if spec.kind == "formation":
        return f"Formation {label}"
    if spec.kind == "vae":
        return f"VAE {label}"
    if spec.kind == "equivalence":
        return f"Équivalence {label}"
    if spec.kind == "attente":
        return "Attente"
    if spec.kind == "poste":
        return "Prise de poste"
    if spec.kind == "formation_obligatoire":
        return "Formation obligatoire"
    return f"{label} en poste"


def document_route(book: RuleBook, person: Person, rank: int, target: str, partial: Partial) -> Route:
    """A kept route, each step documented (rule, sources) and placed in time."""
    kinds = [s.kind for s in partial.steps]
    hired = kinds.index("poste") if "poste" in kinds else len(kinds)
    in_post = any(k in {"certification_en_poste", "formation_obligatoire"} for k in kinds[hired + 1 :])
    steps = []
    elapsed = 0.0
    for spec in partial.steps:
        step = document_step(book, spec, person, then_in_post=in_post)
        step.start_months = round(elapsed, 2)
        step.short_title = short_title(book, spec)
        elapsed += spec.months
        steps.append(step)
    return Route(
        rank=rank,
        target=target,
        target_name=book.occupations.get(target, target),
        total_months=partial.total,
        months_before_post=partial.months,
        steps=steps,
        summary=summary(book, partial),
    )
