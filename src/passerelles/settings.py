"""Typed settings, read from the environment (prefix ``PASSERELLES_``) or passed explicitly.

Nothing is built at import time: ``Settings()`` is called by the CLI and the app factory, and tests build
their own ``Settings(...)``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from passerelles.importing.limits import ImportLimits

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Environments that may run without PASSERELLES_SECRET_KEY; every other value (production, staging…) needs it.
KEYLESS_ENVIRONMENTS = ("development", "test")


FETCH_URL_PREFIX = "PASSERELLES_FETCH_URL_"  # + dataset id: one variable per dataset, added to fetch_urls
MAX_IMPORT_WORKERS = 16


def default_data_dir() -> Path | None:
    """The open data shared by the team, beside the clone (``../shared/data``), when it is there."""
    candidate = PROJECT_ROOT.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


def lheo_schema(data_dir: Path | None) -> Path | None:
    """The LHÉO 2.3 schema in a data directory (``lheo/lheo-2.3.xsd``), when it is there."""
    path = data_dir / "lheo" / "lheo-2.3.xsd" if data_dir else None
    return path if path and path.is_file() else None


def _dataset_key(dataset_id: str) -> str:
    return dataset_id.upper().replace("-", "_")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSERELLES_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'passerelles.sqlite3'}",
        description="SQLAlchemy URL: SQLite file by default, postgresql+psycopg://… in production.",
    )
    # PostgreSQL connection pool, per process (each uvicorn worker has its own). A request holds a
    # connection while it runs in the thread pool (40 threads by default): 10 kept + 20 on demand.
    db_pool_size: int = Field(default=10, ge=1, le=100)
    db_max_overflow: int = Field(default=20, ge=0, le=200)
    data_dir: Path | None = Field(
        default_factory=default_data_dir,
        description="Directory of open data (ROME export in rome_v460/, COG in geo_fr/).",
    )
    reference_dir: Path = Field(default=PROJECT_ROOT / "data", description="The project's own YAML facts.")
    demo: bool = Field(default=True, description="`init` loads generated demonstration offers and sessions.")
    demo_sessions: int = Field(default=3000, ge=0, le=1_000_000)
    demo_offers: int = Field(default=5000, ge=0, le=2_000_000)
    var_dir: Path = Field(
        default=PROJECT_ROOT / "var",
        description="Fichiers produits par les commandes : rejets des imports (rejects/), démonstration (demo/).",
    )
    search_index_dir: Path = Field(
        default=PROJECT_ROOT / "var" / "search",
        description="Search index directory (versions/ + CURRENT pointer), built from the database.",
    )
    search_replica: bool = Field(
        default=False,
        description="Nœud de lecture : l'index vient d'un autre serveur (passerelles index pull), il n'est jamais "
        "construit en mémoire depuis la base ; sans index, la recherche répond 503.",
    )
    warm_up: bool | None = Field(
        default=None,
        description="Read the reference data, the search index and the pathway rules at process start, before "
        "the first request (default: everywhere but in the test environment).",
    )
    environment: str = Field(
        default="development",
        pattern="^[a-z][a-z0-9_-]{0,39}$",
        description="development, test, production… : hors development et test, PASSERELLES_SECRET_KEY est exigée.",
    )
    # Accounts, e-mail, personal data (issue 7).
    secret_key: str = Field(
        default="",
        description="Clé secrète (liens signés, empreintes) ; obligatoire hors développement et test.",
    )
    secret_key_file: Path = Field(
        default=PROJECT_ROOT / "var" / "secret_key",
        description="En développement sans clé : clé aléatoire de l'installation, créée au premier usage (0600).",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000", description="Adresse publique, pour les liens des courriels."
    )
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "Passerelles <ne-pas-repondre@passerelles.invalid>"
    mail_transport: Literal["smtp", "outbox"] | None = Field(
        default=None,
        description="smtp : envoi par smtp_host ; outbox : un fichier .eml par courriel dans outbox_dir, lisible "
        "à /dev/courriels (développement seulement). Par défaut : outbox en développement, smtp ailleurs.",
    )
    outbox_dir: Path | None = Field(default=None, description="Boîte d'envoi de développement (var/outbox/).")
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    cookie_secure: bool = Field(default=False, description="Cookies « Secure » même derrière un proxy HTTP.")
    login_window_minutes: int = Field(default=15, ge=1)
    login_max_failures_account: int = Field(default=5, ge=1)
    login_max_failures_ip: int = Field(default=30, ge=1)
    # argon2 checks at once per process (64 MiB each): a login beyond is answered 429 at once, not queued.
    login_max_concurrent_checks: int = Field(default=4, ge=1, le=256)
    inactive_purge_days: int = Field(default=730, ge=30, description="Purge des dossiers inactifs (2 ans).")
    reminder_days: int = Field(default=7, ge=1, description="Relance des candidatures sans réponse.")
    # Requests (issue 14): no route takes files, so one limit covers JSON and form bodies.
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, le=100 * 1_048_576, description="Taille maximale d'un corps de requête."
    )
    max_upload_bytes: int = Field(
        default=5 * 1_048_576,
        ge=1024,
        le=50 * 1_048_576,
        description="Taille maximale d'un CV (PDF) joint à une candidature ; seule la route de candidature "
        "accepte un corps plus grand que max_body_bytes (ce CV et le formulaire).",
    )
    upload_dir: Path | None = Field(
        default=None,
        description="Dossier des CV reçus, hors des fichiers servis par le site (défaut : var/cv/).",
    )
    body_timeout_seconds: float = Field(
        default=15, gt=0, le=600, description="Délai pour recevoir tout le corps annoncé d'une requête (408 après)."
    )
    forwarded_allow_ips: str = Field(
        default="",
        description="Proxys dont X-Forwarded-For/-Proto sont crus (adresses ou réseaux, séparés par des virgules) ; "
        "vide : aucun.",
    )
    # Imports (issue 14): what makes a run refuse its input as a whole rather than change the store.
    import_max_rejected_share: float = Field(
        default=0.05, ge=0, le=1, description="Part de rejets au-delà de laquelle un fichier est refusé en entier."
    )
    import_rejected_floor: int = Field(
        default=20, ge=0, description="Rejets toujours tolérés, quelle que soit la part."
    )
    import_max_removed_share: float = Field(
        default=0.20,
        ge=0,
        le=1,
        description="Part des lignes en base qu'un import peut retirer ou fermer sans --force.",
    )
    import_removed_floor: int = Field(
        default=20, ge=0, description="Retraits toujours tolérés, quelle que soit la part."
    )
    import_workers: int | None = Field(
        default=None,
        ge=0,
        le=MAX_IMPORT_WORKERS,
        description="Processus lecteurs des imports LHÉO et offres (0 : aucun) ; "
        "absent : deux pour un fichier de plus de 16 Mo sur une machine à plusieurs cœurs.",
    )
    import_nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="Priorité d'un import pour le système (nice) : les pages servies sur la même machine passent "
        "avant lui ; 0 : inchangée.",
    )
    # Open data downloads (`passerelles data fetch`): the address of a dataset whose registry entry has none.
    fetch_urls: dict[str, str] = Field(
        default_factory=dict,
        description='Adresse de téléchargement par jeu (JSON {"rome": "https://…"}) ; '
        "aussi une variable par jeu, PASSERELLES_FETCH_URL_<ID>.",
    )

    # France Travail « Offres d'emploi v2 » (`passerelles data fetch offres`, `data refresh`): OAuth2 client
    # credentials of an application registered on francetravail.io (never printed: masked in logs and errors).
    france_travail_client_id: str | None = Field(default=None, description="Identifiant client France Travail.")
    france_travail_client_secret: SecretStr | None = Field(default=None, description="Clé secrète France Travail.")
    france_travail_token_url: str = (
        "https://entreprise.francetravail.fr/connexion/oauth2/access_token?realm=%2Fpartenaire"  # noqa: S105 (an URL)
    )
    france_travail_api_url: str = "https://api.francetravail.io/partenaire/offresdemploi/v2"
    france_travail_scope: str = "api_offresdemploiv2 o2dsoffre"
    france_travail_rome_codes: list[str] = Field(
        default_factory=list, description="Codes ROME cherchés ; vide : ceux des métiers du projet (en base)."
    )
    france_travail_departements: list[str] = Field(
        default_factory=list, description="Départements cherchés ; vide : tous ceux de la base."
    )
    france_travail_rate: float = Field(
        default=10.0, gt=0, le=100, description="Appels par seconde au plus (limite documentée de l'API : 10)."
    )
    # `passerelles data refresh`: the LHÉO catalogues to import (URLs or files), besides the offers and datasets.
    lheo_sources: list[str] = Field(default_factory=list, description="Catalogues LHÉO du rafraîchissement.")

    @field_validator("database_url")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("PASSERELLES_DATABASE_URL doit désigner SQLite ou PostgreSQL")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("import_workers", mode="before")
    @classmethod
    def _workers_number(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None  # set but empty: chosen by size
            if not value.isdigit() or int(value) > MAX_IMPORT_WORKERS:
                raise ValueError(
                    f"PASSERELLES_IMPORT_WORKERS : nombre de 0 à {MAX_IMPORT_WORKERS} attendu, pas {value!r}"
                )
        return value

    @model_validator(mode="before")
    @classmethod
    def _fetch_url_variables(cls, data: Any) -> Any:
        """``PASSERELLES_FETCH_URL_<ID>`` variables add to ``fetch_urls`` (what is given explicitly wins)."""
        found = {k.removeprefix(FETCH_URL_PREFIX): v for k, v in os.environ.items() if k.startswith(FETCH_URL_PREFIX)}
        if found and isinstance(data, dict):
            data = {**data, "fetch_urls": {**found, **(data.get("fetch_urls") or {})}}
        return data

    @field_validator("fetch_urls")
    @classmethod
    def _fetch_url_keys(cls, value: dict[str, str]) -> dict[str, str]:
        return {_dataset_key(k): v for k, v in value.items() if v}

    @model_validator(mode="after")
    def _production_guards(self) -> Settings:
        if not self.secret_key and self.environment not in KEYLESS_ENVIRONMENTS:
            raise ValueError(
                f"PASSERELLES_SECRET_KEY est obligatoire hors développement et test (environnement {self.environment})"
            )
        if self.mail_transport == "outbox" and self.environment not in KEYLESS_ENVIRONMENTS:
            raise ValueError(
                f"PASSERELLES_MAIL_TRANSPORT=outbox est réservé au développement (environnement {self.environment}) :"
                " configurez l'envoi SMTP (PASSERELLES_SMTP_HOST, PASSERELLES_SMTP_PORT)"
            )
        return self

    @property
    def mail_outbox(self) -> Path | None:
        """The development outbox folder when mail goes there, else None (mail goes through SMTP)."""
        transport = self.mail_transport or ("outbox" if self.environment == "development" else "smtp")
        if transport != "outbox":
            return None
        return self.outbox_dir or self.var_dir / "outbox"

    @property
    def cv_dir(self) -> Path:
        return self.upload_dir or self.var_dir / "cv"

    @property
    def upload_body_bytes(self) -> int:
        """The body limit of the application form: the CV and the form's other fields (64 KiB)."""
        return self.max_upload_bytes + 65_536

    @property
    def signing_key(self) -> bytes:
        """The key of signed links and keyed digests. Never a public value: without PASSERELLES_SECRET_KEY,
        development uses a random key kept in ``secret_key_file`` (created on first use, reused after) and
        the test environment a random key per process."""
        if self.secret_key:
            return self.secret_key.encode()
        if self.environment == "development":
            return _install_secret(self.secret_key_file)
        return _process_secret()

    @property
    def import_limits(self) -> ImportLimits:
        return ImportLimits(
            max_rejected_share=self.import_max_rejected_share,
            rejected_floor=self.import_rejected_floor,
            max_removed_share=self.import_max_removed_share,
            removed_floor=self.import_removed_floor,
        )

    @property
    def rome_dir(self) -> Path | None:
        if self.data_dir and (self.data_dir / "rome_v460").is_dir():
            return self.data_dir / "rome_v460"
        return None

    @property
    def geo_dir(self) -> Path | None:
        if self.data_dir and (self.data_dir / "geo_fr").is_dir():
            return self.data_dir / "geo_fr"
        return None

    @property
    def lheo_xsd(self) -> Path | None:
        """The LHÉO 2.3 schema the catalogues are checked against, when the data directory has it."""
        return lheo_schema(self.data_dir)

    @property
    def synonyms_file(self) -> Path:
        """The search synonyms, written by the project beside its other facts."""
        return self.reference_dir / "search" / "synonyms.yaml"

    @property
    def opendata_registry(self) -> Path:
        return self.reference_dir / "opendata" / "registry.yaml"

    def fetch_url(self, dataset_id: str) -> str | None:
        """The configured download address of a dataset (``fetch_urls`` or ``PASSERELLES_FETCH_URL_<ID>``)."""
        return self.fetch_urls.get(_dataset_key(dataset_id))


_secret_lock = threading.Lock()
_secrets: dict[str, bytes] = {}


def _process_secret() -> bytes:
    with _secret_lock:
        return _secrets.setdefault("", secrets.token_bytes(32))


def _install_secret(path: Path) -> bytes:
    """The random key of this installation, read from ``path`` or created there (mode 0600).

    Created whole under a temporary name, then linked to its final name: a concurrent process either
    creates it or reads the one that won, never a partial file."""
    key = str(path.resolve())
    with _secret_lock:
        if key in _secrets:
            return _secrets[key]
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "w") as out:
                    out.write(secrets.token_urlsafe(48) + "\n")
                with contextlib.suppress(FileExistsError):  # another process created it first: use theirs
                    os.link(tmp, path)
            finally:
                tmp.unlink()
        value = path.read_text().strip()
        if len(value) < 32:
            raise RuntimeError(f"Clé secrète trop courte ou vide dans {path} : supprimez le fichier pour en créer une")
        _secrets[key] = value.encode()
        return _secrets[key]
