"""Open-data plumbing: the dataset registry, resumable downloads from a local HTTP server, status,
and the Onisep ↔ ROME importer on the real file."""

from __future__ import annotations

import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import Engine, func, select

from passerelles.occupations.models import OnisepMetier
from passerelles.occupations.onisep import import_onisep
from passerelles.opendata.fetch import FetchError, fetch
from passerelles.opendata.registry import Dataset, load_registry
from passerelles.opendata.status import dataset_status
from passerelles.settings import Settings
from tests.support.databases import BACKENDS, REFERENCE_DIR, ROME_DIR, SHARED_DATA

ONISEP = SHARED_DATA / "onisep" / "romeMetier_onisep_rome.csv"


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves ``files`` with HTTP Range support; ``cut`` bytes makes the first full answer stop short."""

    files: ClassVar[dict[str, bytes]] = {}
    cut: ClassVar[dict[str, int]] = {}
    requests: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        body = self.files.get(self.path)
        self.requests.append((self.path, self.headers.get("Range")))
        if body is None:
            self.send_error(404)
            return
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng.removeprefix("bytes=").split("-")[0])
            if start >= len(body):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        payload = body[start:]
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        limit = self.cut.pop(self.path, None) if not rng else None
        if limit is not None:
            self.wfile.write(payload[:limit])
            self.wfile.flush()
            self.connection.shutdown(2)  # the connection drops mid-file
            return
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[RangeHandler]]]:
    handler = type("Handler", (RangeHandler,), {"files": {}, "cut": {}, "requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    httpd.shutdown()
    httpd.server_close()


def _dataset(**kw: Any) -> Dataset:
    base = {
        "id": "onisep",
        "title": "t",
        "publisher": "p",
        "page": "https://example.org",
        "format": "csv",
        "target": "onisep",
        "filename": "romeMetier_onisep_rome.csv",
        "licence": "LO",
        "max_age_days": 30,
    }
    return Dataset.model_validate({**base, **kw})


def test_registry_lists_the_datasets_with_licences() -> None:
    registry = load_registry(REFERENCE_DIR / "opendata" / "registry.yaml")
    assert {"rome", "cog", "laposte", "onisep", "lheo-xsd"} <= {d.id for d in registry.datasets}
    assert all(d.licence and d.page.startswith("https://") for d in registry.datasets)


def test_fetch_resumes_an_interrupted_download(server: tuple[str, type[RangeHandler]], tmp_path: Path) -> None:
    base, handler = server
    body = ONISEP.read_bytes()
    handler.files["/onisep.csv"] = body
    handler.cut["/onisep.csv"] = 50_000
    with pytest.raises(FetchError, match="relancez pour reprendre"):
        fetch(_dataset(), tmp_path, url=f"{base}/onisep.csv")
    part = tmp_path / "onisep" / "romeMetier_onisep_rome.csv.part"
    assert 0 < part.stat().st_size < len(body)
    result = fetch(_dataset(), tmp_path, url=f"{base}/onisep.csv")
    assert result.resumed_from == part.stat().st_size if part.exists() else result.resumed_from > 0
    assert (tmp_path / "onisep" / "romeMetier_onisep_rome.csv").read_bytes() == body
    assert handler.requests[-1][1] == f"bytes={result.resumed_from}-"
    assert (tmp_path / "onisep" / ".onisep.fetch.json").is_file()


def test_fetch_unzips_a_rome_export_and_checks_formats(server: tuple[str, type[RangeHandler]], tmp_path: Path) -> None:
    base, handler = server
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.write(
            ROME_DIR / "unix_referentiel_code_rome_v460_utf8.csv", "RefRomeCsv/unix_referentiel_code_rome_v460_utf8.csv"
        )
    handler.files["/rome.zip"] = buf.getvalue()
    handler.files["/not-a-zip"] = b"<html>maintenance</html>"
    rome = _dataset(id="rome", format="zip", target="rome_v460", filename=None)
    fetch(rome, tmp_path, url=f"{base}/rome.zip")
    assert (tmp_path / "rome_v460" / "unix_referentiel_code_rome_v460_utf8.csv").is_file()
    with pytest.raises(FetchError, match="format zip"):
        fetch(rome, tmp_path / "other", url=f"{base}/not-a-zip")
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(rome, tmp_path, url=f"{base}/missing.zip")
    with pytest.raises(FetchError, match="--url"):
        fetch(rome, tmp_path)


def test_download_addresses_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 18: the address of a dataset is read by Settings (PASSERELLES_FETCH_URLS, or one
    # PASSERELLES_FETCH_URL_<ID> per dataset) and passed down; fetch itself reads no environment.
    monkeypatch.setenv("PASSERELLES_FETCH_URL_LHEO_XSD", "https://example.org/lheo.xsd")
    monkeypatch.setenv("PASSERELLES_FETCH_URLS", '{"rome": "https://example.org/rome.zip"}')
    settings = Settings()
    assert settings.fetch_url("lheo-xsd") == "https://example.org/lheo.xsd"
    assert settings.fetch_url("rome") == "https://example.org/rome.zip" and settings.fetch_url("cog") is None
    rome = _dataset(id="rome", format="zip", target="rome_v460", filename=None)
    monkeypatch.setenv("PASSERELLES_FETCH_URL_ROME", "https://example.org/other.zip")
    with pytest.raises(FetchError, match="--url"):
        fetch(rome, Path("/nonexistent"))


@pytest.mark.parametrize("empty_engine", BACKENDS, indirect=True)
def test_onisep_import_links_met_ids_to_rome(empty_engine: Engine, tmp_path: Path) -> None:
    from passerelles.rome.importer import import_rome

    export = tmp_path / "rome"
    export.mkdir()
    for name in ("unix_referentiel_code_rome_v460_utf8.csv", "unix_referentiel_appellation_v460_utf8.csv"):
        (export / name).symlink_to(ROME_DIR / name)
    import_rome(empty_engine, str(export))
    bad = tmp_path / "onisep.csv"
    bad.write_bytes(
        ONISEP.read_bytes()
        + b'"Z9999";"metier faux";"https://www.onisep.fr/x/MET.1";"";"";"";"";"";""\n'
        + b'"J1501";"sans lien";"https://www.onisep.fr/nowhere";"";"";"";"";"";""\n'
    )
    report = import_onisep(empty_engine, bad)
    assert {(r.position, r.field) for r in report.rejects} == {
        ("ligne 965", "Code ROME"),
        ("ligne 966", "lien site onisep.fr"),
    }
    with empty_engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(OnisepMetier))
        aide_soignant = conn.execute(select(OnisepMetier).where(OnisepMetier.onisep_id == "MET.561")).one()
    assert total == report.counts["onisep_metier"].created > 800
    assert aide_soignant.code_rome == "J1501"
    again = import_onisep(empty_engine, ONISEP)
    assert (again.counts["onisep_metier"].created, again.counts["onisep_metier"].updated) == (0, 0)


def test_status_reports_versions_counts_and_freshness(loaded_engine: Engine) -> None:
    registry = load_registry(REFERENCE_DIR / "opendata" / "registry.yaml")
    rows = {r.id: r for r in dataset_status(registry, SHARED_DATA, loaded_engine)}
    assert rows["rome"].version == "4.60" and rows["rome"].records["rome_fiche"] == 1584
    assert rows["rome"].fresh is True
    assert rows["cog"].records["commune"] > 34_000
    assert rows["cog"].files == ["communes.json"]
