"""The rows the import writes: the store's tables, and the records the reader converts for the driver."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from passerelles.trainings.models import Provider, Training, TrainingSession

PROVIDER = cast(Table, Provider.__table__)
TRAINING = cast(Table, Training.__table__)
SESSION = cast(Table, TrainingSession.__table__)
KEY = ("source", "external_id")
ENTITIES = ("provider", "training", "training_session")
TABLES = (PROVIDER, TRAINING, SESSION)
