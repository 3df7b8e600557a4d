"""``passerelles data fetch``: download an official dataset into the data directory, resumably.

A download goes to ``<name>.part``; an interrupted one resumes with an HTTP ``Range`` request when the
server allows it (``206``), else starts again. The file is checked for its declared format before it
replaces the previous one; a ``.fetch.json`` beside it records the address, size, checksum and date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from passerelles.opendata.registry import Dataset

MAX_BYTES = 2 * 1024**3
CHUNK = 1 << 16


class FetchError(Exception):
    pass


@dataclass
class FetchResult:
    dataset: str
    path: Path
    bytes: int
    resumed_from: int
    sha256: str


def resolve_url(dataset: Dataset, url: str | None) -> str:
    """``url`` (given on the command line or configured for this dataset), else the registry's."""
    chosen = url or dataset.url
    if not chosen:
        raise FetchError(
            f"{dataset.id} : pas d'adresse de téléchargement stable ; donnez celle de la dernière version "
            f"avec --url (publiée sur {dataset.page})"
        )
    if not chosen.startswith(("http://", "https://")):
        raise FetchError(f"{dataset.id} : adresse non HTTP refusée : {chosen}")
    return chosen


def _target(dataset: Dataset, data_dir: Path, url: str) -> Path:
    name = dataset.filename or Path(httpx.URL(url).path).name or f"{dataset.id}.{dataset.format}"
    return data_dir / dataset.target / name


def fetch(
    dataset: Dataset,
    data_dir: Path,
    *,
    url: str | None = None,
    client: httpx.Client | None = None,
    progress: Callable[[int], None] | None = None,
) -> FetchResult:
    address = resolve_url(dataset, url)
    target = _target(dataset, data_dir, address)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    start = part.stat().st_size if part.exists() else 0
    own = client is None
    http = client or httpx.Client(follow_redirects=True, timeout=httpx.Timeout(60, connect=10))
    try:
        headers = {"Range": f"bytes={start}-"} if start else {}
        with http.stream("GET", address, headers=headers) as response:
            if response.status_code == 416 and start:
                pass  # already complete: the server has nothing past our partial file
            elif response.status_code == 206 and start:
                _write(response, part, "ab", start, progress)
            elif response.status_code == 200:
                start = 0
                _write(response, part, "wb", 0, progress)
            else:
                raise FetchError(f"{dataset.id} : HTTP {response.status_code} pour {address}")
    except httpx.HTTPError as exc:
        raise FetchError(f"{dataset.id} : téléchargement interrompu ({exc}) ; relancez pour reprendre") from exc
    finally:
        if own:
            http.close()
    _check_format(dataset, part)
    digest = _sha256(part)
    size = part.stat().st_size
    if dataset.format == "zip":
        _extract_csv(part, target.parent)
        part.unlink()
        final = target.parent
    else:
        shutil.move(part, target)
        final = target
    meta = {
        "dataset": dataset.id,
        "url": address,
        "bytes": size,
        "sha256": digest,
        "fetched_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    (target.parent / f".{dataset.id}.fetch.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return FetchResult(dataset=dataset.id, path=final, bytes=size, resumed_from=start, sha256=digest)


def _write(
    response: httpx.Response, part: Path, mode: str, already: int, progress: Callable[[int], None] | None
) -> None:
    written = already
    with part.open(mode) as fh:
        for chunk in response.iter_bytes():  # as received, so a dropped connection keeps what came
            written += len(chunk)
            if written > MAX_BYTES:
                raise FetchError(f"fichier trop volumineux (> {MAX_BYTES} octets)")
            fh.write(chunk)
            if progress:
                progress(written)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _check_format(dataset: Dataset, path: Path) -> None:
    with path.open("rb") as fh:
        head = fh.read(4096)
    ok = {
        "zip": zipfile.is_zipfile(path),
        "json": head.lstrip()[:1] in (b"[", b"{"),
        "xml": head.lstrip().startswith(b"<"),
        "csv": b"\x00" not in head and (b";" in head or b"," in head),
    }[dataset.format]
    if not ok:
        raise FetchError(f"{dataset.id} : le fichier reçu n'est pas au format {dataset.format} attendu")


def _extract_csv(archive: Path, directory: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = Path(info.filename)
            if name.is_absolute() or ".." in name.parts:
                raise FetchError(f"chemin refusé dans l'archive : {info.filename}")
            if name.suffix.lower() == ".csv":
                with zf.open(info) as src, (directory / name.name).open("wb") as dst:
                    shutil.copyfileobj(src, dst)
