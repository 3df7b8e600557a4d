"""``passerelles data fetch offres``: the sector's job offers from France Travail « Offres d'emploi v2 », written
as JSON Lines, then imported through :func:`passerelles.offers.importer.import_offers`.

Written from the API's documentation on francetravail.io (« API Offres d'emploi v2 »): OAuth2 client
credentials on ``/connexion/oauth2/access_token?realm=/partenaire`` (scope ``api_offresdemploiv2 o2dsoffre``),
``GET /partenaire/offresdemploi/v2/offres/search`` with ``codeROME``, ``departement``, ``minCreationDate`` and
``maxCreationDate`` (both or neither, ``yyyy-MM-dd'T'hh:mm:ss'Z'``), ``range=p-d`` (150 offers a page, 1 150 a
search), answered 206 + ``Content-Range`` while more remain; 10 calls a second at most.

- **What**: one search per ROME code × département (the project's occupations' ROME codes and every
  département of the store, unless the settings name others), each paged by the client.
- **Incremental**: after a successful fetch, the next asks only for the offers created since (less a day of
  overlap: an offer may be published hours after its creation date), and imports them without closing
  anything; the first fetch, or ``complete=True``, asks for every open offer and imports a full feed (absent
  offers closed), provided no search was cut by the API's ceiling.
- **Never printed**: the client secret (a ``SecretStr``) nor the client id appear in a message: errors are
  masked (:func:`mask`) before they reach a log, the console or ``import_run``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import distinct, select
from sqlalchemy.engine import Engine

from passerelles.importing.report import ImportRefused, ImportReport
from passerelles.occupations.models import OccupationRome
from passerelles.offers.client import FranceTravailClient, FranceTravailError
from passerelles.offers.importer import import_offers
from passerelles.places.models import Departement
from passerelles.settings import Settings

OVERLAP = dt.timedelta(days=1)
STATE_FILE = "france-travail.json"
FEED_FILE = "france-travail.jsonl"


class OffersFetchError(Exception):
    """The fetch could not be made (no credentials, API refusal); the message is masked."""


@dataclass
class OffersFetch:
    path: Path
    searches: int
    offers: int
    requests: int
    since: dt.datetime | None  # incremental: offers created since then; None: every open offer
    complete: bool  # no search cut by the API's ceiling
    cut: list[str] = field(default_factory=list)  # "ROME/département" searches cut short
    report: ImportReport | None = None


def mask(text: str, settings: Settings) -> str:
    """``text`` without the credentials (the secret, and the client id) in it."""
    for value in (
        settings.france_travail_client_secret.get_secret_value() if settings.france_travail_client_secret else None,
        settings.france_travail_client_id,
    ):
        if value:
            text = text.replace(value, "***")
    return text


def sector_rome_codes(engine: Engine) -> list[str]:
    """The ROME codes of the project's occupations (the care sector)."""
    with engine.connect() as conn:
        return sorted(conn.scalars(select(distinct(OccupationRome.code_rome))))


def departements(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.scalars(select(Departement.code)))


def _api_date(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _state(folder: Path) -> dict[str, str]:
    path = folder / STATE_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def make_client(settings: Settings) -> FranceTravailClient:
    if not settings.france_travail_client_id or not settings.france_travail_client_secret:
        raise OffersFetchError(
            "identifiants France Travail absents : PASSERELLES_FRANCE_TRAVAIL_CLIENT_ID et "
            "PASSERELLES_FRANCE_TRAVAIL_CLIENT_SECRET (application déclarée sur francetravail.io)"
        )
    return FranceTravailClient(
        settings.france_travail_client_id,
        settings.france_travail_client_secret.get_secret_value(),
        token_url=settings.france_travail_token_url,
        api_url=settings.france_travail_api_url,
        scope=settings.france_travail_scope,
        rate=settings.france_travail_rate,
    )


def fetch_offers(
    engine: Engine,
    settings: Settings,
    *,
    complete: bool = False,
    now: dt.datetime | None = None,
    client: FranceTravailClient | None = None,
    progress: Callable[[str], None] | None = None,
) -> OffersFetch:
    """Fetch the sector's offers into ``var/offres/france-travail.jsonl`` (the file appears only when every
    search succeeded), then import them; the date of this fetch is kept for the next, incremental one."""
    now = now or dt.datetime.now(dt.UTC)
    folder = settings.var_dir / "offres"
    folder.mkdir(parents=True, exist_ok=True)
    state = _state(folder)
    since = None
    if not complete and state.get("last_success"):
        since = dt.datetime.fromisoformat(state["last_success"]) - OVERLAP
    codes = settings.france_travail_rome_codes or sector_rome_codes(engine)
    places = settings.france_travail_departements or departements(engine)
    if not codes or not places:
        raise OffersFetchError("aucun code ROME ou aucun département à chercher (référentiel non chargé ?)")
    own = client is None
    api = client or make_client(settings)
    path = folder / FEED_FILE
    partial = path.with_name(path.name + ".partial")
    seen: set[str] = set()
    cut: list[str] = []
    searches = 0
    try:
        with partial.open("w", encoding="utf-8") as out:
            for code in codes:
                for dep in places:
                    params = {"codeROME": code, "departement": dep}
                    if since is not None:
                        params |= {"minCreationDate": _api_date(since), "maxCreationDate": _api_date(now)}
                    for offer in api.search(params):
                        key = str(offer.get("id"))
                        if key not in seen:
                            seen.add(key)
                            out.write(json.dumps(offer, ensure_ascii=False, separators=(",", ":")) + "\n")
                    searches += 1
                    if api.truncated:
                        cut.append(f"{code}/{dep}")
                if progress:
                    progress(f"{code} : {len(seen)} offre(s) après {searches} recherche(s)")
        os.replace(partial, path)
    except FranceTravailError as exc:
        raise OffersFetchError(mask(str(exc), settings)) from None
    finally:
        partial.unlink(missing_ok=True)
        if own:
            api.close()
    result = OffersFetch(path, searches, len(seen), api.requests, since, not cut, cut)
    if seen:
        try:
            result.report = import_offers(
                engine,
                path,
                fmt="france_travail",
                full=since is None and not cut,
                workers=settings.import_workers,
                limits=settings.import_limits,
            )
        except ImportRefused as exc:
            raise OffersFetchError(mask(str(exc), settings)) from None
    if result.report is None or result.report.status == "ok":
        (folder / STATE_FILE).write_text(
            json.dumps({"last_success": now.isoformat(timespec="seconds"), "offers": len(seen)}), encoding="utf-8"
        )
    return result
