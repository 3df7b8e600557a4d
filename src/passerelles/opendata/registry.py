"""The registry of official open datasets (``data/opendata/registry.yaml``), validated at load."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field


class Dataset(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    title: str
    publisher: str
    page: str
    url: str | None = None
    format: Literal["zip", "json", "csv", "xml", "xlsx"]
    target: str = Field(pattern=r"^[a-z0-9_-]+$")
    filename: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    licence: str
    importer: str | None = None
    max_age_days: int = Field(gt=0)


class Registry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    datasets: list[Dataset]

    def get(self, dataset_id: str) -> Dataset | None:
        return next((d for d in self.datasets if d.id == dataset_id), None)


def load_registry(path: Path) -> Registry:
    return Registry.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
