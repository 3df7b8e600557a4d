"""Extract: the ROME 4 export on disk, its files and their columns (the export's own headers; France
Travail, ROME 4.0 open data on data.gouv.fr / francetravail.io), a directory, .zip or URL made into a
local directory, the version in the file names, and a digest of the files."""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from passerelles.importing.download import download
from passerelles.importing.report import ImportRefused

MAX_DOWNLOAD = 300 * 1024 * 1024

FILES: dict[str, tuple[str, ...]] = {
    "referentiel_code_rome": (
        "code_rome",
        "code_fiche_metier",
        "code_ogr",
        "libelle_rome",
        "transition_eco",
        "transition_num",
        "transition_demo",
        "emploi_reglemente",
        "emploi_cadre",
        "code_rome_parent",
    ),
    "cr_gd_dp": (
        "code_rome",
        "libelle_rome",
        "code_grand_domaine",
        "libelle_grand_domaine",
        "code_domaine_professionel",
        "libelle_domaine_professionel",
    ),
    "referentiel_code_rome_riasec": ("code_rome", "riasec_majeur", "riasec_mineur"),
    "referentiel_appellation": (
        "code_ogr",
        "libelle_appellation_long",
        "libelle_appellation_court",
        "code_rome",
        "transition_eco",
        "transition_num",
        "transition_demo",
        "emploi_reglemente",
        "emploi_cadre",
        "classification",
        "origine",
        "code_rome_parent",
        "peu_usite",
    ),
    "item": ("code_ogr", "libelle", "code_rubrique"),
    "referentiel_competence": (
        "code_ogr",
        "nature",
        "libelle_competence",
        "definition",
        "code_ogr_macro_comp",
        "code_macro_comp",
        "cat_comp",
        "sous_cat_comp",
        "transition_eco",
        "transition_num",
        "libelle_heterogeneite",
        "libelle_origine",
    ),
    "referentiel_savoir": (
        "code_ogr_savoir",
        "libelle_savoir",
        "categorie_savoir",
        "sous_categorie_savoir",
        "transition_eco",
        "transition_num",
    ),
    "referentiel_contexte_travail": (
        "code_ogr",
        "libelle_cont_travail",
        "code_type_cont_trav",
        "libelle_type_cont_trav",
    ),
    "liens_rome_referentiels": ("code_rome", "code_compo_bloc", "code_rubrique", "code_ogr"),
    "coherence_item": ("code_rome", "code_ogr", "coeur_metier"),
    "rubrique_mobilite": ("code_rome", "code_rome_cible", "numero_ordre"),
    "texte": ("code_rome", "code_compo_bloc", "libelle_type_texte", "position_phrase", "libelle_texte"),
}
REQUIRED = {"referentiel_code_rome", "referentiel_appellation"}


def export_file(name: str, suffix: str) -> str:
    """The name of one of the export's files: ``unix_<name>_<suffix>_utf8.csv`` (suffix ``v460``)."""
    return f"unix_{name}_{suffix}_utf8.csv"


def extract(source: str, workdir: Path | None = None) -> Path:
    """Return a local directory holding the export: ``source`` is a directory, a .zip file or an URL."""
    if source.startswith(("http://", "https://")):
        target = Path(workdir or tempfile.mkdtemp(prefix="rome-"))
        return _unzip(download(source, target / "rome.zip", MAX_DOWNLOAD), target / "export")
    path = Path(source)
    if path.is_file() and path.suffix == ".zip":
        return _unzip(path, Path(workdir or tempfile.mkdtemp(prefix="rome-")) / "export")
    if not path.is_dir():
        raise ImportRefused(f"répertoire introuvable : {source}")
    return path


def _unzip(archive: Path, target: Path) -> Path:
    try:
        with zipfile.ZipFile(archive) as zf:
            total = 0
            for info in zf.infolist():
                name = Path(info.filename)
                if name.is_absolute() or ".." in name.parts:
                    raise ImportRefused(f"chemin refusé dans l'archive : {info.filename}")
                total += info.file_size
                if total > MAX_DOWNLOAD * 4:
                    raise ImportRefused("archive refusée : contenu décompressé trop volumineux")
            target.mkdir(parents=True, exist_ok=True)
            for info in zf.infolist():
                if info.filename.endswith(".csv"):
                    with zf.open(info) as src, (target / Path(info.filename).name).open("wb") as dst:
                        shutil.copyfileobj(src, dst)
    except zipfile.BadZipFile as exc:
        raise ImportRefused(f"archive ZIP illisible : {exc}") from exc
    return target


def detect_version(directory: Path) -> tuple[str, str]:
    """Return (file suffix such as ``v460``, ROME version such as ``4.60``)."""
    found = sorted(directory.glob("unix_referentiel_code_rome_v*_utf8.csv"))
    if not found:
        raise ImportRefused(
            f"aucun fichier unix_referentiel_code_rome_vNNN_utf8.csv dans {directory} : est-ce bien un export ROME 4 ?"
        )
    match = re.search(r"_v([0-9]{3})_utf8\.csv$", found[-1].name)
    if not match:
        raise ImportRefused(f"version illisible dans le nom {found[-1].name}")
    digits = match.group(1)
    return f"v{digits}", f"{digits[0]}.{digits[1:]}"


def export_checksum(directory: Path, suffix: str) -> str:
    """A digest of the export's files: the same one already loaded (``loaded_checksum``) needs no import."""
    digest = hashlib.sha256()
    for name in FILES:
        path = directory / export_file(name, suffix)
        if path.is_file():
            digest.update(name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()
