"""Accounts: what comes in (login, registration, admin creation) and what goes out (never a hash)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

Role = Literal["personne", "conseiller", "employeur", "admin"]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$"
    ),
]
Password = Annotated[str, StringConstraints(min_length=10, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
DbId = Annotated[int, Field(ge=1, le=2_147_483_647)]
Siret = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{14}$")]


def control_characters(value: Any, path: str = "") -> str | None:
    """The path of the first string holding a control character (NUL…), or None. Such input is hostile or
    broken, and PostgreSQL refuses NUL in text: it is refused at the boundary with a clear error."""
    if isinstance(value, str):
        return path or "valeur" if any(ord(c) < 32 and c not in "\t\n\r" for c in value) else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = control_characters(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


class Strict(BaseModel):
    """Every input model of these packages: unknown fields and control characters are refused."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_control_characters(cls, data: Any) -> Any:
        found = control_characters(data)
        if found:
            raise ValueError(f"{found} : caractère de contrôle interdit")
        return data


class LoginIn(Strict):
    email: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=254)]
    password: Annotated[str, StringConstraints(max_length=200)]


class StructureIn(Strict):
    name: Name
    siret: Siret
    structure_type: Annotated[str, StringConstraints(max_length=80)] = Field(description="Type de structure (slug)")
    commune_code: Annotated[str, StringConstraints(pattern=r"^[0-9][0-9AB][0-9]{3}$")] | None = None

    @field_validator("siret")
    @classmethod
    def _luhn(cls, value: str) -> str:
        # The SIRET carries a Luhn check digit (La Poste's SIRET are the documented exception).
        total = 0
        for i, ch in enumerate(reversed(value)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        if total % 10 and not value.startswith("356000000"):
            raise ValueError("SIRET invalide (clé de contrôle)")
        return value


class RegisterIn(Strict):
    email: Email
    password: Password
    display_name: Name
    role: Literal["personne", "employeur"] = "personne"
    structure: StructureIn | None = None


class AccountCreate(Strict):
    """Created by an administrator (or the CLI); an invitation e-mail lets the person choose a password."""

    email: Email
    display_name: Name
    role: Role
    platform_id: DbId | None = None
    employer_id: DbId | None = None
    structure: StructureIn | None = None


class PlatformIn(Strict):
    name: Name
    kind: Literal["plateforme", "agence"] = "plateforme"
    departement_code: Annotated[str, StringConstraints(pattern=r"^(?:[0-9]{2}|2A|2B|97[1-6])$")] | None = None


class PlatformOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: str
    departement_code: str | None


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    email: str
    role: str
    display_name: str
    platform_id: int | None
    employer_id: int | None
    email_verified: bool
    active: bool = True
    created_at: dt.datetime


class RegistrationOut(BaseModel):
    """The answer to a registration, the same whether the address already had an account or not."""

    status: Literal["ok"] = "ok"
    message: str = (
        "Un courriel vient d'être envoyé à cette adresse : ouvrez le lien qu'il contient pour activer le compte."
    )


class SessionOut(BaseModel):
    account: AccountOut
    csrf_token: str


class PasswordResetRequest(Strict):
    email: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=254)]


class PasswordResetIn(Strict):
    token: Annotated[str, StringConstraints(max_length=200)]
    password: Password
