"""Reading GET forms into pydantic criteria: empty fields are absent, unknown parameters ignored, and
every error names its field in French (pages show them beside the form; the API returns them as details)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ValidationError
from starlette.datastructures import QueryParams

from passerelles import errors
from passerelles.urls import query_string as query_string  # the pages take it from here, with the rest

M = TypeVar("M", bound=BaseModel)


def french_reason(error: Any) -> str:
    ctx = error.get("ctx") or {}
    kind = error.get("type", "")
    if "ge" in ctx:
        return f"doit valoir au moins {ctx['ge']}"
    if "le" in ctx:
        return f"doit valoir au plus {ctx['le']}"
    if "max_length" in ctx:
        return f"{ctx['max_length']} caractères au plus"
    if kind.startswith("int"):
        return "nombre entier attendu"
    if kind.startswith("date"):
        return "date attendue (AAAA-MM-JJ)"
    if kind.startswith("bool"):
        return "oui ou non attendu"
    if kind in ("literal_error", "enum"):
        return "valeur non reconnue"
    return "format inattendu"


FIELD_LABELS = {
    "q": "Mots-clés",
    "metier": "Métier",
    "certification": "Diplôme ou certification",
    "code_rome": "Code ROME",
    "region": "Région",
    "departement": "Département",
    "commune": "Lieu",
    "rayon": "Rayon (km)",
    "niveau": "Niveau",
    "voie": "Voie d'accès",
    "modalite": "Modalité",
    "debut_min": "Début à partir du",
    "debut_max": "Début au plus tard le",
    "duree_max": "Durée maximale",
    "cout_max": "Coût maximal",
    "cpf": "Éligible au CPF",
    "financement": "Financement",
    "places": "Places restantes",
    "tri": "Trier par",
    "elargir": "Élargir",
    "page": "Page",
    "ids": "Sessions à comparer",
    "contrat": "Contrat",
    "temps": "Temps de travail",
    "depuis": "Publiée depuis",
    "age": "Âge",
    "situation": "Situation",
    "indemnise": "Allocation chômage",
    "travailleur_handicape": "Travailleur handicapé",
    "vae": "VAE",
    "session": "Session",
    "salaire": "Salaire",
    "solde_cpf": "Solde du compte formation",
}


def error_item(field: str, reason: str) -> dict[str, str]:
    """One form error: the parameter, its label on the form, and the reason."""
    return {"field": field, "label": FIELD_LABELS.get(field, field), "reason": reason}


class FormErrors(ValueError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']} : {e['reason']}" for e in errors))
        self.errors = errors


def parse_params(model: type[M], params: QueryParams, *, lists: tuple[str, ...] = ()) -> M:
    """Build ``model`` from query parameters; raises :class:`FormErrors` (field, reason) on bad input."""
    data: dict[str, Any] = {}
    for name in model.model_fields:
        if name in lists:
            values = [v for v in params.getlist(name) if v.strip()]
            if values:
                data[name] = values
        else:
            value = params.get(name)
            if value is not None and value.strip() != "":
                data[name] = value
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise FormErrors(
            [error_item(str(err["loc"][0]) if err["loc"] else "formulaire", french_reason(err)) for err in exc.errors()]
        ) from None


def parse_valid_part(model: type[M], params: QueryParams, errors: list[dict[str, str]], **kw: Any) -> M:
    """The criteria without the fields in error, so that a form shown again keeps what was right."""
    bad = {e["field"] for e in errors}
    kept = QueryParams([(k, v) for k, v in params.multi_items() if k not in bad])
    try:
        return parse_params(model, kept, **kw)
    except FormErrors:
        return model()


def render_status(request: Any, name: str, context: dict[str, Any], status: int = 200) -> Any:
    """``web.render`` with a status code (a form with errors answers 422)."""
    return request.app.state.templates.TemplateResponse(request, name, context, status_code=status)


def read_place(session: Any, params: Any, name: str = "commune", *, areas: bool = True) -> tuple[Any, dict[str, Any]]:
    """The one place field of a search form (``name``, with the older ``region`` and ``departement``
    parameters): its resolution for the picker and the criteria to search with
    (:func:`passerelles.places.services.read_place_field`). ``areas=False``: a page whose région and
    département are separate filters (the search's facets); they only choose among homonyms."""
    from passerelles.places.services import place_index, read_place_field

    region = (params.get("region") or "").strip() or None
    departement = (params.get("departement") or "").strip().upper() or None
    if not areas:
        return read_place_field(place_index(session), params.get(name), region=region)
    return read_place_field(place_index(session), params.get(name), region=region, departement=departement)


def place_text(form: Any, name: str) -> str:
    """What a POST form's place field says: the reading ticked among those offered (``<name>_choix``, see
    templates/places/_picker.html), else the text typed."""
    return str(form.get(f"{name}_choix") or form.get(name) or "").strip()


# ---- Signed-in spaces' POST forms: a refused form comes back with what was typed ----------------------------


@dataclass
class KeptForm:
    """A POST form refused: which form of the page (``name``), what was typed (``values``, by field) and each
    field's problem in French (``errors``; ``formulaire`` for one that names no field). The page renders it
    again (status 422) with ``templates/_kept.html``; every other form of the page stays as it was."""

    name: str
    values: Mapping[str, str]
    errors: dict[str, str] = field(default_factory=dict)


def clip(limit: int) -> BeforeValidator:
    """For a typed field of a POST form: keep at most ``limit + 1`` characters, so that a text too long reaches
    the schema (which refuses it beside its field, the rest of the form kept) instead of FastAPI's bare 422
    page. Use with a schema that allows ``limit`` characters: ``Annotated[str, Form(), clip(1000)] = ""``."""

    def _clip(value: Any) -> Any:
        return value[: limit + 1] if isinstance(value, str) else value

    return BeforeValidator(_clip)


def kept_errors(
    exc: ValidationError, known: Iterable[str], locations: Mapping[str, str] | None = None
) -> dict[str, str]:
    """pydantic's errors by form field, in French: the field ``locations`` gives the error's dotted location
    (e.g. ``structure.siret`` → ``siret``), else the last part of the location that is a field of the form;
    an error on no field of the form (or a model check) goes under ``formulaire``."""
    names = set(known)
    out: dict[str, str] = {}
    for err in exc.errors():
        dotted = ".".join(str(p) for p in err["loc"])
        parts = [str(p) for p in err["loc"] if str(p) in names]
        where = (locations or {}).get(dotted) or (parts[-1] if parts else "formulaire")
        out.setdefault(where, errors.reason(err))
    return out
