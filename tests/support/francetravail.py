"""A local France Travail « Offres d'emploi v2 » server for the tests (real HTTP on 127.0.0.1, no mocks),
written from the API's documentation: the OAuth2 token endpoint (client credentials, ``realm=/partenaire``)
and ``/partenaire/offresdemploi/v2/offres/search`` with ``codeROME``, ``departement``,
``minCreationDate``/``maxCreationDate`` (both or neither) and ``range`` (150 a page, 206 + ``Content-Range``
while more remain, 200 for the last page, 204 when nothing matches, 400 beyond 0-1149), and a 429 with
``Retry-After`` when asked to throttle."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CLIENT_ID = "passerelles-essai"
SECRET = "s3cret-tres-prive"
SEARCH = "/partenaire/offresdemploi/v2/offres/search"
TOKEN = "/connexion/oauth2/access_token"


class FakeOffersApi(http.server.ThreadingHTTPServer):
    def __init__(self, offers: list[dict[str, Any]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.offers = offers
        self.lock = threading.Lock()
        self.searches: list[dict[str, str]] = []  # the query of each search request
        self.statuses: list[int] = []
        self.tokens = 0
        self.throttle = 0  # the next N searches answer 429 (Retry-After: 1)
        self.broken = False  # every request answers 500

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def _date(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FakeOffersApi

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
        if self.server.broken:
            return self.reply(500, {"message": "erreur"})
        if parsed.path != TOKEN or urllib.parse.parse_qs(parsed.query) != {"realm": ["/partenaire"]}:
            return self.reply(404, {"error": "not found"})
        if form.get("client_id") != [CLIENT_ID] or form.get("client_secret") != [SECRET]:
            return self.reply(401, {"error": "invalid_client"})
        if form.get("scope") != ["api_offresdemploiv2 o2dsoffre"]:
            return self.reply(400, {"error": "invalid_scope"})
        with self.server.lock:
            self.server.tokens += 1
        self.reply(200, {"access_token": f"jeton-{self.server.tokens}", "token_type": "Bearer", "expires_in": 1499})

    def do_GET(self) -> None:
        state = self.server
        parsed = urllib.parse.urlsplit(self.path)
        if state.broken:
            return self.reply(500, {"message": "erreur"})
        if parsed.path != SEARCH:
            return self.reply(404, {"error": "not found"})
        if not self.headers.get("Authorization", "").startswith("Bearer jeton-"):
            return self.reply(401, {"message": "jeton invalide"})
        query = {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query).items()}
        with state.lock:
            state.searches.append(query)
            if state.throttle:
                state.throttle -= 1
                state.statuses.append(429)
                return self.reply(429, {"message": "trop de requêtes"}, {"Retry-After": "1"})
        if ("minCreationDate" in query) != ("maxCreationDate" in query):
            return self.reply(400, {"message": "minCreationDate et maxCreationDate vont ensemble"})
        first, last = (int(x) for x in query.get("range", "0-149").split("-"))
        if first > 1000 or last > 1149 or last - first + 1 > 150 or first > last:
            return self.reply(400, {"message": "range invalide"})
        found = [
            o
            for o in state.offers
            if ("codeROME" not in query or o["romeCode"] in query["codeROME"].split(","))
            and ("departement" not in query or o["lieuTravail"]["commune"][:2] == query["departement"])
            and (
                "minCreationDate" not in query
                or _date(query["minCreationDate"]) <= _date(o["dateCreation"]) <= _date(query["maxCreationDate"])
            )
        ]
        page = found[first : last + 1]
        status = 204 if not page else 206 if first + len(page) < len(found) else 200
        with state.lock:
            state.statuses.append(status)
        if status == 204:
            return self.reply(204)
        self.reply(
            status,
            {"resultats": page, "filtresPossibles": []},
            {"Content-Range": f"offres {first}-{first + len(page) - 1}/{len(found)}", "Accept-Range": "offres 150"},
        )


def offer(number: int, rome: str, commune: str, created: str) -> dict[str, Any]:
    return {
        "id": f"{800000 + number}F",
        "intitule": "Aide-soignant (H/F)" if rome == "J1501" else "Infirmier (H/F)",
        "description": "Offre écrite pour les tests de Passerelles.",
        "dateCreation": created,
        "lieuTravail": {"libelle": f"{commune[:2]} - Ville", "commune": commune},
        "romeCode": rome,
        "typeContrat": "CDI",
    }


@contextmanager
def serving(offers: list[dict[str, Any]]) -> Iterator[FakeOffersApi]:
    server = FakeOffersApi(offers)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
