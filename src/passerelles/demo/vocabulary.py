"""Fixed lists (curated) the demonstration data is drawn from: residence names, streets, fiction phone
ranges, LHÉO financeurs, Formacode labels, levels and qualifications, and the tuning of each kind of
organisation, certification, structure and job (weights, routes, months, prices, NAF codes, pay)."""

from __future__ import annotations

from dataclasses import dataclass

RESIDENCE_NAMES = (
    "Les Tilleuls", "Les Jardins d'Automne", "Le Clos Fleuri", "Les Glycines", "La Roseraie", "Les Hortensias",
    "Le Val Fleuri", "Les Peupliers", "Bel Air", "Les Cèdres", "Les Charmilles", "Le Bois Joli", "Les Acacias",
    "La Source", "Les Lilas", "Le Verger", "Les Mimosas", "La Colline", "Les Marronniers", "Le Moulin",
    "Les Platanes", "L'Orée du Bois", "Les Camélias", "La Farandole", "Les Oliviers", "Le Petit Prince",
    "Les Coquelicots", "La Passerelle", "Les Écureuils", "Le Phare", "Les Sources", "La Maison Bleue",
    "L'Arc-en-Ciel", "Les Rives", "Le Jardin des Sens", "Les Alizés", "La Clairière", "Les Myosotis",
    "Le Cèdre Bleu", "Les Saules", "Les Lucioles", "Les Petits Loups", "La Ribambelle", "Les Capucines",
)  # fmt: skip
NAMESAKES = (
    "Jean Moulin", "Marie Curie", "Louise Michel", "Simone Veil", "Victor Hugo", "Jules Ferry", "Jean Jaurès",
    "Émile Zola", "George Sand", "Camille Claudel", "Olympe de Gouges", "Condorcet", "Marcel Pagnol",
    "Jacques Prévert", "Paul Éluard", "Pierre Mendès France", "Gustave Eiffel", "Albert Camus",
    "Antoine de Saint-Exupéry", "Jean Monnet", "Lucie Aubrac", "Rosa Parks", "Germaine Tillion", "Hélène Boucher",
)  # fmt: skip
STREETS = (
    "rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Pasteur", "rue des Écoles",
    "rue du Général de Gaulle", "place de la Mairie", "rue de l'Hôpital", "avenue de la Gare", "rue du Stade",
    "chemin des Vignes", "rue des Lilas", "allée des Tilleuls", "rue du Moulin", "rue de la Paix", "avenue Foch",
    "rue Gambetta", "rue Pierre Curie", "rue des Acacias", "boulevard de la Liberté", "rue Jules Ferry",
    "avenue du Maréchal Leclerc", "rue Jean Moulin", "rue de la Fontaine", "route de la Forêt", "rue Pasteur",
    "avenue de la Libération", "rue Émile Zola", "rue des Jardins", "impasse des Sources",
)  # fmt: skip
# Telephone ranges the ARCEP reserves for fiction, by area (01 Île-de-France … 05 south-west; 06 for overseas).
FICTION_PHONE_PREFIX = {"1": "01 99 00", "2": "02 61 91", "3": "03 53 01", "4": "04 65 71", "5": "05 36 49"}
REGION_PHONE_AREA = {
    "11": "1", "24": "2", "28": "2", "52": "2", "53": "2", "27": "3", "32": "3", "44": "3",
    "84": "4", "93": "4", "94": "4", "75": "5", "76": "5",
}  # fmt: skip
OVERSEAS_COLLECTIVITIES = frozenset({"975", "977", "978", "984", "986", "987", "988", "989"})

# LHÉO dict-financeurs (code-financeur).
FINANCEURS = {
    0: "Autre",
    2: "Collectivité territoriale - Conseil régional",
    3: "Fonds européens - FSE",
    4: "France Travail (ex-Pôle emploi)",
    5: "Entreprise",
    7: "AGEFIPH",
    10: "Bénéficiaire de l'action",
    12: "État - Ministère de l'éducation nationale",
    13: "État - Autre",
    16: "OPCA / opérateur de compétences (OPCO)",
}
# Legacy Formacode labels (FCod-utf-8.csv) used for offers' "formations" and the LHÉO domaine.
FORMACODE_LABELS = {
    "43436": "aide soignant", "44051": "auxiliaire puériculture", "43439": "puériculture", "43448": "infirmier",
    "44028": "auxiliaire vie", "44004": "aide médico-psychologique", "44072": "travail social",
    "44092": "éducateur spécialisé", "44050": "éducateur jeune enfant", "44083": "assistant social",
    "44026": "famille", "44007": "conseil familial conjugal", "32032": "encadrement",
    "44047": "direction établissement médicosocial", "14289": "gérontologie", "43059": "gériatrie",
    "43437": "personnel paramédical", "35015": "secrétariat médicosocial", "44035": "médiation socioculturelle",
    "44054": "action sociale", "44022": "aide médicosociale", "43454": "santé secteur sanitaire",
    "44067": "animation socioculturelle", "44024": "personne handicapée",
}  # fmt: skip
FT_LEVELS = {
    3: "CAP, BEP et équivalents",
    4: "Bac ou équivalent",
    5: "Bac+2 ou équivalents",
    6: "Bac+3, Bac+4 ou équivalents",
    7: "Bac+5 et plus ou équivalents",
}
QUALIFICATIONS = {
    "5": "Employé non qualifié",
    "6": "Employé qualifié",
    "7": "Technicien",
    "8": "Agent de maîtrise",
    "9": "Cadre",
}
SMIC_MONTHLY = 1801.80


@dataclass(frozen=True)
class OrgType:
    min_pop: int
    routes: tuple[str, ...]  # access routes this kind of organisation runs, by preference
    names: tuple[tuple[str, str], ...]  # (nom-organisme, raison-sociale) templates
    sessions_per_org: float
    uai: bool
    places: tuple[int, int]


ORG_TYPES: dict[str, OrgType] = {
    "ifsi": OrgType(
        8000,
        ("initiale", "continue", "apprentissage"),
        (
            (
                "Institut de formation en soins infirmiers du Centre hospitalier de {ville}",
                "Centre hospitalier de {ville}",
            ),
            ("IFSI-IFAS du Centre hospitalier de {ville}", "Centre hospitalier de {ville}"),
            ("Institut de formation paramédical de {ville}", "Centre hospitalier de {ville}"),
            (
                "Institut de formation aux professions de santé de {ville}",
                "Groupement hospitalier de territoire {dept}",
            ),
        ),
        12,
        True,
        (25, 90),
    ),
    "social": OrgType(
        20000,
        ("initiale", "continue", "apprentissage"),
        (
            ("Institut régional du travail social {region}", "Association IRTS {region}"),
            ("École supérieure de travail social de {ville}", "Association ESTS de {ville}"),
            ("Institut de formation en travail social de {ville}", "Association IFTS de {ville}"),
            ("Centre de formation aux métiers de l'accompagnement social de {ville}", "Association CFMAS {dept}"),
        ),
        18,
        False,
        (18, 45),
    ),
    "lycee": OrgType(
        3000,
        ("initiale", "apprentissage"),
        (
            ("Lycée professionnel {nom} de {ville}", "Lycée professionnel {nom}"),
            ("Lycée polyvalent {nom} de {ville}", "Lycée polyvalent {nom}"),
            ("Lycée des métiers de la santé et du social {nom} de {ville}", "Lycée {nom}"),
        ),
        3,
        True,
        (15, 30),
    ),
    "cfa": OrgType(
        10000,
        ("apprentissage",),
        (
            ("CFA sanitaire et social de {ville}", "Association CFA sanitaire et social {dept}"),
            ("CFA des métiers de la santé et de l'autonomie {region}", "Association CFA santé autonomie {region}"),
            ("Unité de formation par apprentissage santé-social de {ville}", "CFA interprofessionnel {dept}"),
        ),
        8,
        True,
        (8, 24),
    ),
    "prive": OrgType(
        5000,
        ("continue", "apprentissage"),
        (
            ("Institut de formation sanitaire et sociale de {ville}", "IFSS {ville} SAS"),
            ("Centre de formation professionnelle santé-social de {ville}", "CFP Santé Social {dept}"),
            ("{ville} Formation Santé Social", "{ville} Formation SARL"),
            ("Centre de formation pour adultes de {ville}", "Association CFPA {dept}"),
            ("Institut de formation aux métiers de l'aide à la personne de {ville}", "IFMAP {ville}"),
        ),
        6,
        False,
        (10, 24),
    ),
    "universite": OrgType(
        40000,
        ("initiale", "apprentissage", "continue"),
        (
            ("IUT de {ville} – département Carrières sociales", "Université de {ville}"),
            ("Université de {ville} – UFR Sciences humaines et sociales", "Université de {ville}"),
        ),
        3,
        True,
        (24, 60),
    ),
    "specialise": OrgType(
        100000,
        ("continue",),
        (
            (
                "Centre de formation en rééducation des déficients visuels de {ville}",
                "Association CFRDV {ville}",
            ),
        ),
        2,
        False,
        (8, 15),
    ),
}


@dataclass(frozen=True)
class CertTuning:
    weight: float
    orgs: tuple[tuple[str, float], ...]
    months: tuple[int, ...]  # usual start months; () = any time of year
    price: tuple[float, float] | None  # € per hour in the centre; None = free public education
    entry: int  # LHÉO code-niveau-entree (dict-niveaux: 1 none, 4 V, 5 IV, 6 III, 7 II)
    formacodes: tuple[str, ...]
    nsf: str
    hours: tuple[int, int] | None = None  # fallback (centre, entreprise) when the YAML has none
    months_fallback: tuple[int, int] | None = None
    rome: tuple[str, ...] = ()  # when no occupation of occupations.yaml names the certification


CERT_TUNING: dict[str, CertTuning] = {
    "deas": CertTuning(
        20, (("ifsi", 0.65), ("prive", 0.15), ("cfa", 0.12), ("lycee", 0.08)), (1, 3, 9), (8.5, 12), 1,
        ("43436",), "331",
    ),
    "dei": CertTuning(10, (("ifsi", 1.0),), (2, 9), (6, 9), 5, ("43448",), "331"),
    "deap": CertTuning(
        6, (("ifsi", 0.7), ("prive", 0.2), ("cfa", 0.1)), (1, 9), (8.5, 12), 1, ("44051", "43439"), "331",
        months_fallback=(12, 18),
    ),
    "asg": CertTuning(
        6, (("ifsi", 0.3), ("prive", 0.7)), (), (12, 18), 4, ("14289", "43059"), "331",
        hours=(140, 0), months_fallback=(4, 6),
    ),
    "deaes": CertTuning(
        14, (("social", 0.45), ("prive", 0.3), ("cfa", 0.15), ("lycee", 0.1)), (1, 3, 9), (10, 14), 1,
        ("44028", "44004"), "332",
    ),
    "deme": CertTuning(5, (("social", 0.9), ("cfa", 0.1)), (1, 9, 10), (11, 15), 1, ("44072",), "332"),
    "dees": CertTuning(5, (("social", 0.9), ("cfa", 0.1)), (9,), (10, 14), 5, ("44092",), "332"),
    "deets": CertTuning(1, (("social", 1.0),), (9,), (10, 14), 5, ("44072",), "332", hours=(1200, 2100)),
    "deeje": CertTuning(3, (("social", 0.9), ("cfa", 0.1)), (9,), (10, 14), 5, ("44050",), "332"),
    "deass": CertTuning(3, (("social", 1.0),), (9,), (10, 14), 5, ("44083",), "332"),
    "detisf": CertTuning(
        1.5, (("social", 0.9), ("cfa", 0.1)), (1, 9), (10, 13), 1, ("44026", "44072"), "332"
    ),
    "demf": CertTuning(
        0.8, (("social", 1.0),), (1, 10), (14, 20), 6, ("44007", "44026"), "332", months_fallback=(18, 36)
    ),
    "caferuis": CertTuning(
        2, (("social", 0.85), ("prive", 0.15)), (1, 3, 9, 10), (14, 20), 6, ("32032", "44072"), "332",
        hours=(400, 420),
    ),
    "cafdes": CertTuning(0.8, (("social", 1.0),), (1, 9, 10), (15, 22), 7, ("44047",), "332"),
    "cqp-assistant-medical": CertTuning(
        2.5, (("prive", 1.0),), (), (12, 16), 5, ("43437",), "331", hours=(279, 0), months_fallback=(12, 12)
    ),
    "tp-sams": CertTuning(
        3, (("prive", 0.7), ("cfa", 0.3)), (), (9, 13), 4, ("35015",), "324", hours=(805, 210),
        months_fallback=(8, 12),
    ),
    "tp-msads": CertTuning(
        1.5, (("prive", 0.8), ("social", 0.2)), (), (9, 13), 4, ("44035", "44054"), "332", hours=(735, 140),
        months_fallback=(9, 12),
    ),
    "bac-pro-assp": CertTuning(
        12, (("lycee", 0.85), ("cfa", 0.15)), (9,), None, 1, ("44022", "43454"), "330", hours=(2500, 770),
        months_fallback=(34, 34),
    ),
    "bts-sp3s": CertTuning(
        3, (("lycee", 0.85), ("cfa", 0.15)), (9,), None, 5, ("44054", "43454"), "330", hours=(1650, 455),
        months_fallback=(22, 22),
    ),
    "but-carrieres-sociales": CertTuning(
        1, (("universite", 1.0),), (9,), None, 5, ("44072", "44067"), "332", hours=(1800, 840),
        months_fallback=(34, 34), rome=("K1207", "K1201", "K1204"),
    ),
    "licence-pro-intervention-sociale": CertTuning(
        1, (("universite", 1.0),), (9,), None, 6, ("44054",), "332", hours=(450, 560), months_fallback=(10, 10),
        rome=("K1201", "K1204", "K1207"),
    ),
    "caerldv": CertTuning(
        0.1, (("specialise", 1.0),), (9, 10), (15, 22), 7, ("44024",), "332", hours=(700, 350),
        months_fallback=(9, 9),
    ),
}  # fmt: skip
DEFAULT_TUNING = CertTuning(1, (("prive", 0.6), ("social", 0.4)), (), (10, 15), 1, ("44072",), "332")


@dataclass(frozen=True)
class StructureTuning:
    weight: float
    min_pop: int
    naf: str
    naf_label: str
    names: tuple[str, ...]
    nights: bool = False
    weekends: bool = True


NAF = {
    "86.10Z": "Activités hospitalières",
    "86.21Z": "Activité des médecins généralistes",
    "86.90D": "Activités des infirmiers et des sages-femmes",
    "87.10A": "Hébergement médicalisé pour personnes âgées",
    "87.10B": "Hébergement médicalisé pour enfants handicapés",
    "87.10C": "Hébergement médicalisé pour adultes handicapés et autre hébergement médicalisé",
    "87.20A": "Hébergement social pour handicapés mentaux et malades mentaux",
    "87.90A": "Hébergement social pour enfants en difficultés",
    "87.90B": "Hébergement social pour adultes et familles en difficultés et autre hébergement social",
    "88.10A": "Aide à domicile",
    "88.10C": "Aide par le travail",
    "88.91A": "Accueil de jeunes enfants",
    "88.99B": "Action sociale sans hébergement n.c.a.",
    "84.11Z": "Administration publique générale",
    "84.12Z": "Administration publique (tutelle) de la santé, de la formation, de la culture et des services sociaux, "
    "autre que sécurité sociale",
    "84.30C": "Distribution sociale de revenus",
}


def _st(
    weight: float, min_pop: int, naf: str, *names: str, nights: bool = False, weekends: bool = True
) -> StructureTuning:
    return StructureTuning(weight, min_pop, naf, NAF[naf], names, nights, weekends)


STRUCTURES: dict[str, StructureTuning] = {
    "ehpad": _st(5, 300, "87.10A", "EHPAD {nom}", "EHPAD Résidence {nom}", "EHPAD {nom} de {ville}",
                 "Maison de retraite {nom}", nights=True),
    "usld": _st(0.6, 5000, "86.10Z", "Unité de soins de longue durée du Centre hospitalier de {ville}", nights=True),
    "ime": _st(1.5, 2000, "87.10B", "IME {nom}", "Institut médico-éducatif {nom}", "IME de {ville}", nights=True),
    "iem": _st(0.4, 5000, "87.10B", "IEM {nom}", "Institut d'éducation motrice de {ville}", nights=True),
    "mas": _st(1.2, 1000, "87.10C", "MAS {nom}", "Maison d'accueil spécialisée {nom}", nights=True),
    "fam": _st(1.0, 1000, "87.10C", "FAM {nom}", "Foyer d'accueil médicalisé {nom}", nights=True),
    "foyer-de-vie": _st(1.0, 1000, "87.20A", "Foyer de vie {nom}", "Foyer occupationnel {nom}", nights=True),
    "esat": _st(0.8, 2000, "88.10C", "ESAT {nom}", "ESAT de {ville}", weekends=False),
    "mdph": _st(0.2, 20000, "84.12Z", "Maison départementale des personnes handicapées ({dept})", weekends=False),
    "mecs": _st(1.2, 2000, "87.90A", "MECS {nom}", "Maison d'enfants à caractère social {nom}", nights=True),
    "service-ase": _st(0.5, 20000, "84.11Z", "Conseil départemental ({dept}) – Aide sociale à l'enfance"),
    "chrs": _st(0.8, 10000, "87.90B", "CHRS {nom}", "Centre d'hébergement et de réinsertion sociale {nom}",
                nights=True),
    "centre-social": _st(0.5, 2000, "88.99B", "Centre social {nom}", "Centre social et culturel de {ville}"),
    "ssiad": _st(1.5, 1000, "86.90D", "SSIAD de {ville}", "Service de soins infirmiers à domicile {nom}"),
    "saad": _st(4, 500, "88.10A", "SAAD {nom}", "Aide à domicile {nom}",
                "Service d'aide et d'accompagnement à domicile de {ville}", "{nom} Services à domicile"),
    "hopital": _st(5, 5000, "86.10Z", "Centre hospitalier de {ville}", "Hôpital de {ville}",
                   "Centre hospitalier intercommunal de {ville}", nights=True),
    "hopital-psychiatrique": _st(1, 10000, "86.10Z", "Centre hospitalier spécialisé de {ville}", "EPSM de {ville}",
                                 nights=True),
    "clinique": _st(2, 10000, "86.10Z", "Clinique {nom}", "Polyclinique de {ville}",
                    "Clinique de soins médicaux et de réadaptation {nom}", nights=True),
    "cabinet-medical": _st(2, 500, "86.21Z", "Cabinet médical {nom}", "Cabinet de médecine générale de {ville}",
                           "Maison de santé pluriprofessionnelle de {ville}", weekends=False),
    "centre-de-sante": _st(1, 5000, "86.21Z", "Centre de santé municipal de {ville}", "Centre de santé {nom}",
                           weekends=False),
    "creche": _st(3, 1000, "88.91A", "Crèche {nom}", "Multi-accueil {nom}", "Micro-crèche {nom}", weekends=False),
    "pmi": _st(0.4, 20000, "84.11Z", "Conseil départemental ({dept}) – Protection maternelle et infantile",
               weekends=False),
    "caf": _st(0.3, 20000, "84.30C", "Caisse d'allocations familiales ({dept})", weekends=False),
    "collectivite-territoriale": _st(1, 2000, "84.11Z", "CCAS de {ville}", "Mairie de {ville}",
                                     "Conseil départemental ({dept})", weekends=False),
    "association": _st(1, 2000, "88.99B", "Association {nom}", "Association d'entraide de {ville}",
                       "Association {nom} – Solidarités"),
    "entreprise": _st(0.2, 5000, "88.99B", "Entreprise d'insertion {nom}", weekends=False),
    # Not a structure type of structure_types.yaml: the practice that offers a liberal replacement (LIB).
    "cabinet-infirmier": _st(0, 1000, "86.90D", "Cabinet infirmier {nom}", "Cabinet de soins infirmiers de {ville}"),
}  # fmt: skip
STRUCTURE_SHORT = {
    "ehpad": "EHPAD", "usld": "USLD", "ime": "IME", "iem": "IEM", "mas": "MAS", "fam": "FAM",
    "foyer-de-vie": "foyer de vie", "esat": "ESAT", "mecs": "MECS", "chrs": "CHRS", "ssiad": "SSIAD",
    "saad": "domicile", "hopital": "hôpital", "hopital-psychiatrique": "psychiatrie", "clinique": "clinique",
    "cabinet-medical": "cabinet médical", "centre-de-sante": "centre de santé", "creche": "crèche",
}  # fmt: skip
# At home: a nursing service (SSIAD) for care occupations that work in one, else a home-help service (SAAD).
# "ecole" and "service-penitentiaire" do not publish such offers.
STRUCTURE_ALIASES = {"domicile": "saad"}


@dataclass(frozen=True)
class JobTuning:
    weight: float
    pay: tuple[int, int]  # monthly gross, full time, start of the band
    qualification: str
    appellations: tuple[tuple[int, float], ...] = ()
    hourly_share: float = 0.0
    annual_share: float = 0.0
    part_time_share: float = 0.2
    tension: float = 0.2  # share flagged "offresManqueCandidats"
    contracts: tuple[float, float, float, float, float] = (0.46, 0.36, 0.09, 0.06, 0.0)  # CDI CDD MIS ALT LIB


JOB_TUNING: dict[str, JobTuning] = {
    "aide-soignant": JobTuning(22, (1850, 2350), "6", ((10891, 5), (10893, 2), (10892, 1), (10895, 1)),
                                0.05, 0, 0.2, 0.5),
    "infirmier": JobTuning(16, (2250, 2950), "7", ((15545, 6), (38222, 1.5), (15549, 1), (15544, 1), (512256, 1),
                                                   (15553, 0.5), (488662, 0.5)),
                            0.03, 0.05, 0.15, 0.5, (0.47, 0.33, 0.08, 0.02, 0.10)),
    "accompagnant-educatif-et-social": JobTuning(14, (1830, 2150), "6",
                                                  ((511182, 4), (140948, 2), (140949, 2), (10856, 1)),
                                                  0.1, 0, 0.3, 0.4),
    "assistant-de-vie-dependance": JobTuning(12, (1805, 1990), "6",
                                              ((38087, 2), (11453, 3), (11256, 1), (11257, 1), (11255, 1)),
                                              0.45, 0, 0.55, 0.3, (0.55, 0.33, 0.04, 0.08, 0.0)),
    "agent-de-service-hospitalier": JobTuning(10, (1805, 1950), "5", ((10698, 5), (10742, 1), (404263, 1)),
                                               0.1, 0, 0.3, 0.2, (0.38, 0.44, 0.14, 0.04, 0.0)),
    "auxiliaire-de-puericulture": JobTuning(5, (1850, 2250), "6", (), 0.03, 0, 0.25, 0.4),
    "secretaire-medical": JobTuning(5, (1810, 2250), "6", ((19397, 5), (19399, 1), (38904, 1)), 0.05, 0, 0.3, 0.1),
    "educateur-specialise": JobTuning(5, (2050, 2700), "7", (), 0, 0.1, 0.15, 0.35),
    "moniteur-educateur": JobTuning(4, (1900, 2350), "7", (), 0, 0, 0.15, 0.3),
    "educateur-de-jeunes-enfants": JobTuning(3, (2000, 2500), "7", (), 0, 0.05, 0.2, 0.3),
    "assistant-medical": JobTuning(2, (1850, 2300), "6", ((200145, 3), (11281, 1)), 0.05, 0, 0.3, 0.1),
    "assistant-de-service-social": JobTuning(2, (2050, 2700), "7", ((11335, 3), (11253, 1)), 0, 0.1, 0.2, 0.2),
    "technicien-intervention-sociale-familiale": JobTuning(1.5, (1850, 2300), "7", (), 0.05, 0, 0.3, 0.2),
    "mediateur-social": JobTuning(1.5, (1810, 2150), "6", ((404483, 3), (10747, 1), (10319, 1)), 0.05, 0, 0.2, 0.05),
    "educateur-technique-specialise": JobTuning(1, (2000, 2650), "7", ((14603, 3), (512071, 1)), 0, 0.05, 0.1, 0.1),
    "assistant-de-soins-en-gerontologie": JobTuning(1, (1950, 2350), "6", (), 0.05, 0, 0.25, 0.2),
    "encadrant-unite-intervention-sociale": JobTuning(1, (2900, 3800), "8", ((38657, 2), (18809, 1)), 0, 0.5, 0.05,
                                                       0.1, (0.82, 0.15, 0.0, 0.03, 0.0)),
    "directeur-etablissement-social": JobTuning(0.6, (3800, 5200), "9", ((14391, 1), (14399, 1), (14292, 1)), 0, 0.7,
                                                 0.02, 0.05, (0.88, 0.12, 0.0, 0.0, 0.0)),
    "mediateur-familial": JobTuning(0.3, (2300, 3000), "7", (), 0, 0.1, 0.4, 0.0),
    "instructeur-de-locomotion": JobTuning(0.05, (2200, 2900), "7", ((16017, 1), (14592, 1)), 0, 0.1, 0.2, 0.0),
}  # fmt: skip
DEFAULT_JOB = JobTuning(0.5, (1850, 2400), "6")

PUBLICS = {
    "initiale": (("81061", 1.0), ("81024", 0.7)),
    "continue": (("80006", 0.9), ("82044", 0.8), ("82045", 0.5), ("82071", 0.4), ("81020", 0.2)),
    "apprentissage": (("82027", 1.0), ("82029", 0.5)),
}
