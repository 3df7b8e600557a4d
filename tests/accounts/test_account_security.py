"""Accounts under attack (issue 14): login limits that hold (per address across one's own logins, under
simultaneous guesses, a bounded number of password checks per process), no account enumeration on
registration and password reset, single-use reset tokens, and no public signing key."""

from __future__ import annotations

import hashlib
import hmac
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from passerelles.accounts import services
from passerelles.accounts.models import Account, AccountToken
from passerelles.accounts.schemas import AccountCreate
from passerelles.alerts.models import SavedSearch
from passerelles.app import create_app
from passerelles.settings import Settings
from tests.support.accounts import PASSWORD, TEST_PASSWORD_HASHER_PARAMETERS, World, login
from tests.support.mail import Mailbox
from tests.support.net import free_port

LOGIN = "/api/v1/comptes/connexion"
# The key every development and test install signed with before issue 14 (it was in the public source).
OLD_PUBLIC_KEY = b"passerelles-developpement-seulement"


class CountingHasher(PasswordHasher):
    """The suite's cheap argon2, counting verifications (and how many run at once); each takes ``delay``
    seconds or, with ``gate``, until the gate opens — the time a real argon2 check leaves for a race."""

    def __init__(self, delay: float = 0.0, gate: threading.Event | None = None) -> None:
        super().__init__(**TEST_PASSWORD_HASHER_PARAMETERS)
        self.delay, self.gate = delay, gate
        self.lock = threading.Lock()
        self.verifications = self.running = self.most_at_once = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self.lock:
            self.verifications += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            if self.gate is not None:
                self.gate.wait(timeout=20)
            time.sleep(self.delay)
            return super().verify(hash, password)
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def hasher_in_use() -> Any:
    """Install a hasher for one test, then the suite's cheap one again."""

    def install(hasher: PasswordHasher) -> PasswordHasher:
        services.use_password_hasher(hasher)
        return hasher

    yield install
    services.use_password_hasher(PasswordHasher(**TEST_PASSWORD_HASHER_PARAMETERS))


def all_at_once(calls: list[Callable[[], Response]]) -> list[Response]:
    """Run the calls in as many threads, released together; their responses in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


# ------------------------------------------------------------------------------------------ login limits


def test_own_logins_do_not_reset_the_per_address_count(
    settings: Settings, engine: Engine, world: World, db: Session
) -> None:
    """97 guesses on 97 accounts from one address, logging in to one's own account every 29: the address is
    refused once its failures reach the limit (before issue 14, each own login restarted the count)."""
    victims = [
        services.create_account(
            db,
            None,
            AccountCreate(email=f"victime{i}@example.org", display_name=f"V{i}", role="personne"),
            password=PASSWORD,
            verified=True,
        ).email
        for i in range(97)
    ]
    db.commit()
    app = create_app(settings, engine=engine)
    client = TestClient(app)
    own = world.emails["personne"]
    guesses, own_logins = [], []
    for i, victim in enumerate(victims):
        if i and i % 29 == 0:  # from the same address (a client of its own keeps the guesses' client anonymous)
            own_logins.append(TestClient(app).post(LOGIN, json={"email": own, "password": PASSWORD}).status_code)
        guesses.append(client.post(LOGIN, json={"email": victim, "password": f"essai {i}"}).status_code)
    limit = settings.login_max_failures_ip
    assert guesses[:limit] == [403] * limit
    assert guesses[limit:] == [429] * (97 - limit)
    # The own login before the limit works; after it, the address is refused like any other attempt.
    assert own_logins == [200, 429, 429]


def test_an_own_login_clears_only_that_accounts_failures(settings: Settings, engine: Engine, world: World) -> None:
    """Decision: the owner who mistyped then logged in starts afresh on that account; the address keeps its
    count (see above)."""
    app = create_app(settings.model_copy(update={"login_max_failures_ip": 1000}), engine=engine)
    email, limit = world.emails["personne"], settings.login_max_failures_account

    def attempt(password: str) -> int:
        return TestClient(app).post(LOGIN, json={"email": email, "password": password}).status_code

    assert [attempt(f"faute {i}") for i in range(limit - 1)] == [403] * (limit - 1)
    assert attempt(PASSWORD) == 200
    assert [attempt(f"faute {i}") for i in range(limit)] == [403] * limit
    assert attempt(PASSWORD) == 429


@pytest.mark.parametrize("burst", [30])
def test_simultaneous_wrong_passwords_are_never_all_checked(
    settings: Settings, engine: Engine, world: World, hasher_in_use: Any, burst: int
) -> None:
    # Many checks allowed at once and a high address limit: only the per-account count stops the burst.
    roomy = settings.model_copy(update={"login_max_concurrent_checks": 100, "login_max_failures_ip": 1000})
    app = create_app(roomy, engine=engine)
    email = world.emails["personne"]
    hasher = hasher_in_use(CountingHasher(delay=0.05))

    def guess(password: str) -> Callable[[], Response]:
        return lambda: TestClient(app).post(LOGIN, json={"email": email, "password": password})

    answers = all_at_once([guess(f"mauvais {i}") for i in range(burst)])
    statuses = sorted(r.status_code for r in answers)
    limit = roomy.login_max_failures_account
    assert hasher.verifications <= limit, f"{hasher.verifications} mots de passe vérifiés sur {burst}"
    assert statuses == [403] * statuses.count(403) + [429] * (burst - statuses.count(403))
    assert statuses.count(403) <= limit
    # The right password, alone or hidden among a second burst, no longer logs in.
    before = hasher.verifications
    again = all_at_once([guess(PASSWORD)] + [guess(f"encore {i}") for i in range(9)])
    assert [r.status_code for r in again] == [429] * 10
    assert hasher.verifications == before
    assert TestClient(app).post(LOGIN, json={"email": email, "password": PASSWORD}).status_code == 429


def test_password_checks_at_once_are_bounded_and_the_excess_answered_429_at_once(
    settings: Settings, engine: Engine, world: World, hasher_in_use: Any
) -> None:
    two = settings.model_copy(update={"login_max_concurrent_checks": 2, "login_max_failures_ip": 1000})
    app = create_app(two, engine=engine)
    gate = threading.Event()
    hasher = hasher_in_use(CountingHasher(gate=gate))
    answers: list[Response] = []
    done = threading.Condition()

    def attempt(i: int) -> None:
        response = TestClient(app).post(LOGIN, json={"email": f"inconnu{i}@example.org", "password": "x"})
        with done:
            answers.append(response)
            done.notify_all()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    # Two checks hold their slot until the gate opens: the six others are answered without waiting for them.
    with done:
        answered = done.wait_for(lambda: len(answers) >= 6, timeout=20)
    deadline = time.monotonic() + 10
    while hasher.running < 2 and time.monotonic() < deadline:  # both held checks reach argon2
        time.sleep(0.01)
    gate.set()
    for t in threads:
        t.join(timeout=30)
    assert answered, "les tentatives en trop ont attendu au lieu d'être refusées"
    assert hasher.most_at_once == 2 and hasher.verifications == 2
    refused = [r for r in answers if r.status_code == 429]
    assert len(refused) == 6 and sorted(r.status_code for r in answers) == [403, 403] + [429] * 6
    for r in refused:
        assert r.headers["retry-after"] == "1"
        assert r.json()["error"]["code"] == "too_many_requests" and r.json()["error"]["status"] == 429
    # The slots are free again.
    assert (
        TestClient(app).post(LOGIN, json={"email": world.emails["personne"], "password": PASSWORD}).status_code == 200
    )


# -------------------------------------------------------------------------------------------- enumeration


def _median_ms(call: Callable[[], Any], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _same_timing(known: Callable[[], Any], unknown: Callable[[], Any], runs: int = 15) -> tuple[float, float]:
    """Medians (ms) of ``runs`` calls of each, interleaved so that a load spike hits both alike."""
    a: list[float] = []
    b: list[float] = []
    known(), unknown()  # warm-up
    for _ in range(runs):
        a += _median_ms(known, 1)
        b += _median_ms(unknown, 1)
    return statistics.median(a), statistics.median(b)


def test_registration_answers_the_same_for_a_known_address_and_tells_its_owner(
    client: TestClient, settings: Settings, engine: Engine, world: World, mailbox: Mailbox, db: Session
) -> None:
    known = world.emails["personne"]
    before = db.scalar(select(Account.password_hash).where(Account.email == known))

    def register(email: str, c: TestClient = client) -> Response:
        body = {"email": email, "password": "un mot de passe sûr", "display_name": "Quelqu'un"}
        return c.post("/api/v1/comptes/inscription", json=body)

    new, existing = register("nouvelle@example.org"), register(known)
    assert (new.status_code, new.json()) == (existing.status_code, existing.json())
    assert new.status_code == 202
    assert mailbox.link("nouvelle@example.org", "/compte/verifier")
    [notice] = mailbox.to(known)
    text = notice.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "quelqu'un a tenté de créer un compte passerelles avec votre adresse" in text.lower()
    assert "/compte/verifier" not in text
    db.expire_all()
    assert db.scalar(select(Account.password_hash).where(Account.email == known)) == before

    # The page: the same status and the same text.
    def page(email: str) -> Response:
        c = TestClient(client.app)
        token = c.get("/inscription").cookies.get("passerelles_csrf")
        form = {"csrf_token": token, "role": "personne", "display_name": "X", "email": email}
        return c.post("/inscription", data=form | {"password": "un mot de passe sûr"})

    new_page, known_page = page("autre@example.org"), page(known)
    assert new_page.status_code == known_page.status_code == 200
    assert new_page.text == known_page.text and "existe déjà" not in known_page.text

    # Mail server down: the same refusal for both (nothing created for the new address).
    down = TestClient(create_app(settings.model_copy(update={"smtp_port": free_port()}), engine=engine))
    a, b = register("troisieme@example.org", down), register(known, down)
    assert a.status_code == b.status_code == 503 and a.json() == b.json()
    assert db.scalar(select(Account).where(Account.email == "troisieme@example.org")) is None

    # Timing: both hash a password and send one mail.
    counter = iter(range(1000))
    slow, fast = _same_timing(lambda: register(f"n{next(counter)}@example.org"), lambda: register(known))
    assert max(slow, fast) / min(slow, fast) < 2, (slow, fast)


def test_password_reset_answers_the_same_for_known_and_unknown_addresses(
    client: TestClient, settings: Settings, engine: Engine, world: World, mailbox: Mailbox
) -> None:
    known, unknown = world.emails["conseiller_a"], "personne@nulle-part.org"

    def forgot(email: str, c: TestClient = client) -> Response:
        return c.post("/api/v1/comptes/mot-de-passe/oubli", json={"email": email})

    a, b = forgot(known), forgot(unknown)
    assert (a.status_code, a.json()) == (b.status_code, b.json()) == (202, {"status": "ok"})
    assert mailbox.link(known, "/mot-de-passe/nouveau")
    assert mailbox.to(unknown) == []

    # Mail server down: still the same answer (before issue 14, 503 for a known address only).
    down = TestClient(create_app(settings.model_copy(update={"smtp_port": free_port()}), engine=engine))
    a, b = forgot(known, down), forgot(unknown, down)
    assert (a.status_code, a.json()) == (b.status_code, b.json()) == (202, {"status": "ok"})
    down.cookies.set("passerelles_csrf", "jeton-de-test")
    page_a = down.post("/mot-de-passe-oublie", data={"csrf_token": "jeton-de-test", "email": known})
    page_b = down.post("/mot-de-passe-oublie", data={"csrf_token": "jeton-de-test", "email": unknown})
    assert page_a.status_code == page_b.status_code == 200 and page_a.text == page_b.text

    # Timing (before issue 14: the known address waited for the mail server, 11.8 ms against 2.4 ms).
    slow, fast = _same_timing(lambda: forgot(known), lambda: forgot(unknown))
    assert max(slow, fast) / min(slow, fast) < 2, (slow, fast)


# ------------------------------------------------------------------------------------------- reset tokens


def _issue(engine: Engine, email: str, count: int) -> list[str]:
    with Session(engine) as db:
        account = db.scalar(select(Account).where(Account.email == email))
        assert account is not None
        tokens = [services.issue_token(db, account, "reset", hours=2) for _ in range(count)]
        db.commit()
    return tokens


def test_an_older_reset_link_fails_once_a_newer_one_was_used(client: TestClient, engine: Engine, world: World) -> None:
    email = world.emails["conseiller_a"]
    older, newer = _issue(engine, email, 2)
    done = client.post("/api/v1/comptes/mot-de-passe", json={"token": newer, "password": "nouveau mot de passe"})
    assert done.status_code == 200
    late = client.post("/api/v1/comptes/mot-de-passe", json={"token": older, "password": "celui de l'attaquant"})
    assert late.status_code == 422 and late.json()["error"]["details"][0]["field"] == "token"
    login(client, email, "nouveau mot de passe")
    with Session(engine) as db:
        assert db.scalar(select(AccountToken).where(AccountToken.used_at.is_(None))) is None


def test_simultaneous_uses_of_one_reset_token_succeed_once(app: Any, engine: Engine, world: World) -> None:
    email = world.emails["conseiller_a"]
    [token] = _issue(engine, email, 1)

    def use(i: int) -> Callable[[], Response]:
        body = {"token": token, "password": f"nouveau mot de passe {i}"}
        return lambda: TestClient(app, raise_server_exceptions=False).post("/api/v1/comptes/mot-de-passe", json=body)

    answers = all_at_once([use(i) for i in range(8)])
    assert sorted(r.status_code for r in answers) == [200] + [422] * 7
    [winner] = [i for i, r in enumerate(answers) if r.status_code == 200]
    login(TestClient(app), email, f"nouveau mot de passe {winner}")


# ------------------------------------------------------------------------------------------------ secrets


def test_a_link_signed_with_the_old_public_key_is_refused(
    settings: Settings, engine: Engine, world: World, db: Session
) -> None:
    """An install without PASSERELLES_SECRET_KEY (here the test environment) signs with a random key of its
    own: someone else's alert cannot be unsubscribed with a link signed with the old public key."""
    keyless = settings.model_copy(update={"secret_key": ""})
    client = TestClient(create_app(keyless, engine=engine))
    csrf = login(client, world.emails["personne"])
    saved = client.post(
        "/api/v1/alertes", json={"kind": "offres", "criteria": {"q": "soignant"}}, headers={"X-CSRF-Token": csrf}
    )
    assert saved.status_code == 201
    search_id = saved.json()["id"]
    forged = hmac.new(OLD_PUBLIC_KEY, f"unsubscribe:{search_id}".encode(), hashlib.sha256).hexdigest()[:32]
    stranger = TestClient(client.app)
    assert stranger.get(f"/alertes/desabonnement?id={search_id}&sig={forged}").status_code == 400
    assert db.scalar(select(SavedSearch.active).where(SavedSearch.id == search_id)) is True
    assert keyless.signing_key != OLD_PUBLIC_KEY and len(keyless.signing_key) >= 32
    # The install's own link still works.
    own = services.sign(keyless, f"unsubscribe:{search_id}")
    assert stranger.get(f"/alertes/desabonnement?id={search_id}&sig={own}").status_code == 200


@pytest.mark.parametrize("environment", ["production", "staging", "recette"])
def test_a_secret_is_required_outside_development_and_test(environment: str) -> None:
    with pytest.raises(ValidationError, match="PASSERELLES_SECRET_KEY"):
        Settings(environment=environment, secret_key="")
    assert Settings(environment=environment, secret_key="k" * 40).signing_key == b"k" * 40


def test_development_generates_a_random_key_per_install_kept_in_var(tmp_path: Any) -> None:
    path = tmp_path / "var" / "secret_key"
    first = Settings(environment="development", secret_key="", secret_key_file=path).signing_key
    assert path.is_file() and (path.stat().st_mode & 0o777) == 0o600
    assert path.read_text().strip().encode() == first and first != OLD_PUBLIC_KEY and len(first) >= 32
    # Reused after (a restart, another worker), and another install has its own.
    assert Settings(environment="development", secret_key="", secret_key_file=path).signing_key == first
    other = Settings(environment="development", secret_key="", secret_key_file=tmp_path / "autre" / "secret_key")
    assert other.signing_key != first
    existing = tmp_path / "existant" / "secret_key"
    existing.parent.mkdir()
    existing.write_text("une-cle-deja-la-depuis-le-premier-lancement\n")
    kept = Settings(environment="development", secret_key="", secret_key_file=existing).signing_key
    assert kept == b"une-cle-deja-la-depuis-le-premier-lancement"
