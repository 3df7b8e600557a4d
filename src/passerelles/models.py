"""Import every feature's models so that ``Base.metadata`` knows all tables (Alembic, tests)."""

from passerelles.accompaniment import models as accompaniment
from passerelles.accounts import models as accounts
from passerelles.alerts import models as alerts
from passerelles.caseloads import models as caseloads
from passerelles.certifications import models as certifications
from passerelles.employers import models as employers
from passerelles.importing import models as importing
from passerelles.labour import models as labour
from passerelles.occupations import models as occupations
from passerelles.offers import models as offers
from passerelles.opendata import models as opendata
from passerelles.outcomes import models as outcomes
from passerelles.pathways import models as pathways
from passerelles.places import models as places
from passerelles.reference import models as reference
from passerelles.rncp import models as rncp
from passerelles.rome import models as rome
from passerelles.sources import models as sources
from passerelles.trainings import models as trainings

__all__ = [
    "accompaniment",
    "accounts",
    "alerts",
    "caseloads",
    "certifications",
    "employers",
    "importing",
    "labour",
    "occupations",
    "offers",
    "opendata",
    "outcomes",
    "pathways",
    "places",
    "reference",
    "rncp",
    "rome",
    "sources",
    "trainings",
]
