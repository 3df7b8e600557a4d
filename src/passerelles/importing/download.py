"""The one way importers fetch an input by URL: streamed to a file, bounded in size, errors as refusals."""

from __future__ import annotations

from pathlib import Path

import httpx

from passerelles.importing.report import ImportRefused


def download(url: str, target: Path, max_bytes: int) -> Path:
    size = 0
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=60) as response:
            if response.status_code != 200:
                raise ImportRefused(f"téléchargement refusé : HTTP {response.status_code} pour {url}")
            with target.open("wb") as fh:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise ImportRefused(f"fichier trop volumineux (> {max_bytes} octets) : {url}")
                    fh.write(chunk)
    except httpx.HTTPError as exc:
        raise ImportRefused(f"téléchargement impossible : {exc}") from exc
    return target
