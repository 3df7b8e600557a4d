"""Reference data of the store that the reader looks values up in: communes (the importers' shared
:class:`~passerelles.places.resolver.CommuneIndex`) and RNCP codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.engine import Engine

from passerelles.certifications.models import Certification, CertificationRncp
from passerelles.places.resolver import CommuneIndex
from passerelles.trainings.lheo.fields import rncp_code


@dataclass
class References:
    """Communes and RNCP codes of the store, read once per import."""

    places: CommuneIndex = field(default_factory=lambda: CommuneIndex(()))
    certifications: dict[str, int] = field(default_factory=dict)
    by_slug: dict[str, int] = field(default_factory=dict)  # Passerelles' own slug, in generated catalogues

    @classmethod
    def load(cls, engine: Engine) -> References:
        refs = cls()
        with engine.connect() as conn:
            refs.places = CommuneIndex.load(conn)
            linked: dict[str, set[int]] = {}
            for code, cert_id in conn.execute(select(CertificationRncp.code, CertificationRncp.certification_id)):
                norm_code = rncp_code(code)
                if norm_code:
                    linked.setdefault(norm_code, set()).add(cert_id)
            refs.by_slug = {slug: cid for slug, cid in conn.execute(select(Certification.slug, Certification.id))}
        refs.certifications = {code: next(iter(ids)) for code, ids in linked.items() if len(ids) == 1}
        return refs

    def commune(self, insee: str | None, postcode: str | None, city: str | None) -> str | None:
        """The session's commune: the rule of :meth:`CommuneIndex.named_in_postcode_area`."""
        return self.places.named_in_postcode_area(insee, postcode, city)

    def certification(self, codes: Sequence[str]) -> int | None:
        for code in codes:
            if code in self.certifications:
                return self.certifications[code]
        return None
