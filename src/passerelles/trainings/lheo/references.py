"""Reference data of the store that the reader looks values up in: communes and RNCP codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.engine import Engine

from passerelles.certifications.models import Certification, CertificationRncp
from passerelles.places.models import Commune
from passerelles.places.names import name_key
from passerelles.trainings.lheo.fields import rncp_code


def _departements(postcode: str) -> tuple[str, ...]:
    if postcode.startswith("97"):
        return (postcode[:3],)
    if postcode.startswith("20"):
        return ("2A", "2B")
    return (postcode[:2],)


@dataclass
class References:
    """Communes and RNCP codes of the store, read once per import."""

    communes: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    by_postcode: dict[tuple[str, str], str] = field(default_factory=dict)
    by_departement: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    certifications: dict[str, int] = field(default_factory=dict)
    by_slug: dict[str, int] = field(default_factory=dict)  # Passerelles' own slug, in generated catalogues

    @classmethod
    def load(cls, engine: Engine) -> References:
        refs = cls()
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    Commune.code_insee,
                    Commune.name,
                    Commune.departement_code,
                    Commune.postcodes,
                    Commune.latitude,
                    Commune.longitude,
                )
            )
            for code, name, dep, postcodes, lat, lon in rows:
                refs.communes[code] = (lat, lon)
                norm = name_key(name)
                for pc in postcodes or []:
                    refs.by_postcode.setdefault((str(pc), norm), code)
                refs.by_departement.setdefault((dep, norm), []).append(code)
            linked: dict[str, set[int]] = {}
            for code, cert_id in conn.execute(select(CertificationRncp.code, CertificationRncp.certification_id)):
                norm_code = rncp_code(code)
                if norm_code:
                    linked.setdefault(norm_code, set()).add(cert_id)
            refs.by_slug = {slug: cid for slug, cid in conn.execute(select(Certification.slug, Certification.id))}
        refs.certifications = {code: next(iter(ids)) for code, ids in linked.items() if len(ids) == 1}
        return refs

    def commune(self, insee: str | None, postcode: str | None, city: str | None) -> str | None:
        if insee and insee in self.communes:
            return insee
        if not city:
            return None
        norm = name_key(city)
        if postcode:
            found = self.by_postcode.get((postcode, norm))
            if found:
                return found
            candidates = [c for dep in _departements(postcode) for c in self.by_departement.get((dep, norm), [])]
            if len(candidates) == 1:
                return candidates[0]  # a CEDEX or outdated postcode, but one commune of that name there
        return None

    def certification(self, codes: Sequence[str]) -> int | None:
        for code in codes:
            if code in self.certifications:
                return self.certifications[code]
        return None
