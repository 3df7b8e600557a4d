"""Typed settings, read from the environment (prefix ``PASSERELLES_``) or passed explicitly.

Nothing is built at import time: ``Settings()`` is called by the CLI and the app factory, and tests build
their own ``Settings(...)``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _default_data_dir() -> Path | None:
    # In a clone, the open data shared by the team lives beside the repository (../shared/data).
    candidate = PROJECT_ROOT.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSERELLES_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'passerelles.sqlite3'}",
        description="SQLAlchemy URL: SQLite file by default, postgresql+psycopg://… in production.",
    )
    data_dir: Path | None = Field(
        default_factory=_default_data_dir,
        description="Directory of open data (ROME export in rome_v460/, COG in geo_fr/).",
    )
    reference_dir: Path = Field(default=PROJECT_ROOT / "data", description="The project's own YAML facts.")
    demo: bool = Field(default=True, description="`init` loads generated demonstration offers and sessions.")
    demo_sessions: int = Field(default=3000, ge=0, le=1_000_000)
    demo_offers: int = Field(default=5000, ge=0, le=2_000_000)
    search_index_dir: Path = Field(
        default=PROJECT_ROOT / "var" / "search",
        description="Search index directory (versions/ + CURRENT pointer), built from the database.",
    )
    environment: str = Field(default="development", pattern="^(development|test|production)$")
    debug: bool = False

    @field_validator("database_url")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("PASSERELLES_DATABASE_URL doit désigner SQLite ou PostgreSQL")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

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
