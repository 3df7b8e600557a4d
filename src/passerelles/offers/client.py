"""Client of France Travail's « Offres d'emploi v2 » API (francetravail.io).

- Authentication: OAuth2 *client credentials* on the « access token » URL (form fields ``grant_type``,
  ``client_id``, ``client_secret``, ``scope``); the token is kept until shortly before ``expires_in`` and
  fetched again on a 401.
- Search: ``GET {api_url}/offres/search`` pages with ``range=start-end`` (at most 150 offers a page). The
  API answers 206 Partial Content with ``Content-Range: offres 0-149/353`` while more remain, 200 for
  the last page and 204 when nothing matches; one search serves at most 1 150 offers (``start`` ≤ 1000,
  ``end`` ≤ 1149): narrower searches (by département, by creation date) are needed beyond.
- Rate limiting: 429 and 503 (and 502, 504, network errors) are retried after ``Retry-After``, or an
  exponential back-off, at most ``max_retries`` times. ``rate`` spaces the requests to the API's documented
  limit (10 calls a second for « Offres d'emploi v2 » on francetravail.io).

:meth:`FranceTravailClient.download` writes the offers as JSON Lines, the input of
:func:`passerelles.offers.importer.import_offers`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

TOKEN_URL = "https://entreprise.francetravail.fr/connexion/oauth2/access_token?realm=%2Fpartenaire"  # noqa: S105 (an URL)
API_URL = "https://api.francetravail.io/partenaire/offresdemploi/v2"
SCOPE = "api_offresdemploiv2 o2dsoffre"
PAGE_SIZE = 150
MAX_START = 1000  # the API refuses a range starting beyond 1000 or ending beyond 1149
MAX_END = 1149
RETRIED = {429, 502, 503, 504}
TOKEN_MARGIN = 60.0  # seconds: a token is renewed this long before it expires
MAX_WAIT = 300.0
CONTENT_RANGE = re.compile(r"(\d+)\s*-\s*(\d+)\s*/\s*(\d+)")


class FranceTravailError(Exception):
    """The API refused or kept failing; the message never carries the credentials."""


@dataclass(frozen=True)
class DownloadResult:
    path: Path
    count: int
    total: int | None  # what the API says matched the search
    complete: bool  # False when the API's 1 150-offer ceiling cut the search short


class FranceTravailClient:
    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        token_url: str,
        api_url: str,
        scope: str,
        http: httpx.Client | None = None,
        max_retries: int = 5,
        page_size: int = PAGE_SIZE,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rate: float | None = None,
    ) -> None:
        if not 1 <= page_size <= PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {PAGE_SIZE}")
        self.client_id = client_id
        self._secret = client_secret
        self.token_url = token_url
        self.search_url = api_url.rstrip("/") + "/offres/search"
        self.scope = scope
        self._own_http = http is None
        self.http = http or httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0))
        self.max_retries = max_retries
        self.page_size = page_size
        self.sleep = sleep
        self.clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        # ``rate``: requests per second at most (the API's documented limit), every request and retry counted.
        self.min_interval = 1.0 / rate if rate else 0.0
        self._next_slot = 0.0
        self.requests = 0
        self.last_total: int | None = None
        self.truncated = False

    def __repr__(self) -> str:
        return f"FranceTravailClient(client_id={self.client_id!r}, api={self.search_url!r})"

    # ------------------------------------------------------------ lifecycle

    def close(self) -> None:
        if self._own_http:
            self.http.close()

    def __enter__(self) -> FranceTravailClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------ HTTP

    def _wait(self, response: httpx.Response | None, attempt: int) -> float:
        """Seconds to wait before the next attempt: ``Retry-After`` (seconds or HTTP date), else 1, 2, 4…"""
        value = response.headers.get("Retry-After") if response is not None else None
        if value:
            value = value.strip()
            if value.isdigit():
                return min(float(value), MAX_WAIT)
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=dt.UTC)
                return min(max((when - dt.datetime.now(dt.UTC)).total_seconds(), 0.0), MAX_WAIT)
        return min(2.0**attempt, 60.0)

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request, retried on 429/502/503/504 and network errors."""
        attempt = 0
        while True:
            self._throttle()
            try:
                response = self.http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                if attempt >= self.max_retries:
                    raise FranceTravailError(f"{url} injoignable après {attempt + 1} tentatives : {exc}") from exc
                self.sleep(self._wait(None, attempt))
                attempt += 1
                continue
            if response.status_code not in RETRIED:
                return response
            if attempt >= self.max_retries:
                raise FranceTravailError(f"HTTP {response.status_code} après {attempt + 1} tentatives : {url}")
            self.sleep(self._wait(response, attempt))
            attempt += 1

    def _throttle(self) -> None:
        """Wait for the next slot of the rate limit (one request every ``min_interval`` seconds)."""
        self.requests += 1
        if not self.min_interval:
            return
        now = self.clock()
        if self._next_slot > now:
            self.sleep(self._next_slot - now)
            now = self._next_slot
        self._next_slot = now + self.min_interval

    def access_token(self, *, renew: bool = False) -> str:
        """The current token, fetched anew when missing, about to expire or ``renew``."""
        if not renew and self._token is not None and self.clock() < self._expires_at:
            return self._token
        response = self._send(
            "POST",
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._secret,
                "scope": self.scope,
            },
        )
        if response.status_code != 200:
            raise FranceTravailError(f"jeton refusé : HTTP {response.status_code} sur {self.token_url}")
        try:
            payload = response.json()
            token = str(payload["access_token"])
            lifetime = float(payload.get("expires_in", 0) or 0)
        except (ValueError, KeyError, TypeError) as exc:
            raise FranceTravailError(f"réponse de jeton illisible sur {self.token_url}") from exc
        self._token = token
        self._expires_at = self.clock() + max(lifetime - TOKEN_MARGIN, 0.0)
        return token

    def _get(self, url: str, params: Mapping[str, str]) -> httpx.Response:
        response = self._send("GET", url, params=params, headers=self._auth(renew=False))
        if response.status_code == 401:  # expired or revoked before its time: once more with a new token
            response = self._send("GET", url, params=params, headers=self._auth(renew=True))
            if response.status_code == 401:
                raise FranceTravailError(f"accès refusé (HTTP 401) malgré un nouveau jeton : {url}")
        return response

    def _auth(self, *, renew: bool) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token(renew=renew)}", "Accept": "application/json"}

    # ------------------------------------------------------------ offers

    def search(self, params: Mapping[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Every offer matching ``params`` (the API's search criteria), page after page."""
        base = {k: v for k, v in (params or {}).items() if k != "range"}
        self.last_total = None
        self.truncated = False
        start = 0
        while True:
            # One search serves ranges within 0-1149 starting at 1000 at most: past 1000, ask from 1000 and
            # drop what an earlier page already gave.
            end = min(start + self.page_size - 1, MAX_END)
            first = min(start, MAX_START)
            response = self._get(self.search_url, {**base, "range": f"{first}-{end}"})
            if response.status_code == 204:
                return
            if response.status_code not in (200, 206):
                raise FranceTravailError(f"recherche refusée : HTTP {response.status_code} (range {first}-{end})")
            try:
                results = response.json().get("resultats") or []
            except (ValueError, AttributeError) as exc:
                raise FranceTravailError(f"réponse illisible (range {first}-{end})") from exc
            yield from results[start - first :]
            match = CONTENT_RANGE.search(response.headers.get("Content-Range", ""))
            total = int(match.group(3)) if match else None
            self.last_total = total
            if response.status_code == 200 or not results:
                return
            if total is not None and end + 1 >= total:
                return
            if total is None and len(results) < end - first + 1:
                return
            start = end + 1
            if start > MAX_END:  # more offers match than one search may serve
                self.truncated = True
                return

    def download(self, path: Path, params: Mapping[str, str] | None = None) -> DownloadResult:
        """Write every offer of the search to ``path`` as JSON Lines; the file appears only when complete."""
        path = Path(path)
        partial = path.with_name(path.name + ".partial")
        count = 0
        try:
            with partial.open("w", encoding="utf-8") as fh:
                for offer in self.search(params):
                    fh.write(json.dumps(offer, ensure_ascii=False, separators=(",", ":")) + "\n")
                    count += 1
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        return DownloadResult(path=path, count=count, total=self.last_total, complete=not self.truncated)
