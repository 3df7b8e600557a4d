"""Loading offer rows into the store in batches (employers by SIRET, offers by ``(source, external_id)``),
closing expired and absent offers, and :func:`import_offers`, the whole import."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, cast

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.schema import Table

from passerelles.importing.limits import ImportLimits
from passerelles.importing.pipeline import auto_workers, sharded
from passerelles.importing.report import ImportRefused, ImportReport, Reject
from passerelles.importing.sync import (
    CHUNK,
    close_missing,
    defer_indexes,
    restore_indexes,
    row_hash,
    sync_rows,
    tune_for_bulk,
)
from passerelles.offers.importer.feeds import FeedReader, check_end, extract
from passerelles.offers.importer.records import (
    CLOSED_EXPIRED,
    JOB_OFFER,
    ImportContext,
    OfferRow,
    Outcome,
    read_records,
)
from passerelles.offers.market import refresh_market
from passerelles.offers.models import Employer
from passerelles.places.resolver import CommuneIndex

Format = Literal["france_travail", "jobposting"]
FORMATS: tuple[str, ...] = ("france_travail", "jobposting")
EMPLOYER = cast(Table, Employer.__table__)
KEY = ("source", "external_id")
CLOSED_MISSING = "absente du flux"
MAX_DETAILED_REJECTS = 10_000


def _sync_employers(conn: Connection, batch: list[OfferRow], ctx: ImportContext, report: ImportReport) -> None:
    """Employers by SIRET: created once, never overwritten by an offer (their other data has other sources)."""
    wanted: dict[str, dict[str, Any]] = {}
    for o in batch:
        if o.siret and o.siret not in ctx.employers and o.siret not in wanted:
            wanted[o.siret] = {
                "siret": o.siret,
                "name": o.row["employer_name"],
                "structure_type": o.row["structure_type"],
                "naf": o.naf,
                "commune_code": o.row["commune_code"],
                "is_demo": ctx.is_demo,
            }
    if not wanted:
        return
    counts = report.entity("employer")
    sirets = list(wanted)

    def lookup(keys: list[str]) -> None:
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            for employer_id, siret in conn.execute(
                select(EMPLOYER.c.id, EMPLOYER.c.siret).where(EMPLOYER.c.siret.in_(chunk))
            ):
                ctx.employers[siret] = employer_id

    lookup(sirets)
    found = sum(1 for siret in wanted if siret in ctx.employers)
    new = [values for siret, values in wanted.items() if siret not in ctx.employers and values["name"]]
    counts.unchanged += found
    counts.created += len(new)
    if ctx.dry_run:
        ctx.employers.update((v["siret"], None) for v in new)
        return
    if new:
        conn.execute(insert(EMPLOYER), new)
        lookup([v["siret"] for v in new])


def _load_batch(engine: Engine, batch: list[OfferRow], ctx: ImportContext, report: ImportReport) -> None:
    with engine.connect() as conn:
        tune_for_bulk(conn)
        if ctx.batches == 0 and not ctx.dry_run:
            defer_indexes(conn, [JOB_OFFER])  # restored after the last batch, see import_offers
        _sync_employers(conn, batch, ctx, report)
        rows = []
        for o in batch:
            row = o.row
            row["employer_id"] = ctx.employers.get(o.siret) if o.siret else None
            row["row_hash"] = row_hash(row)  # here, the row is not copied again
            rows.append(row)
        bound = {id(o.row): o.bound for o in batch if o.bound is not None}
        sync_rows(
            conn,
            JOB_OFFER,
            KEY,
            rows,
            report.entity("job_offer"),
            dry_run=ctx.dry_run,
            return_ids=False,
            bound=bound,
        )
        if not ctx.dry_run:
            conn.commit()
            ctx.batches += 1


def _close(
    engine: Engine, ctx: ImportContext, full: bool, seen: set[str], report: ImportReport, limits: ImportLimits | None
) -> None:
    """Close the expired offers, and with ``full`` the absent ones (within ``limits``, see close_missing)."""
    counts = report.entity("job_offer")
    t = JOB_OFFER.c
    expired = (
        (t.source == ctx.source) & t.closed_at.is_(None) & t.valid_through.is_not(None) & (t.valid_through <= ctx.now)
    )
    with engine.connect() as conn:
        n = int(conn.scalar(select(func.count()).select_from(JOB_OFFER).where(expired)) or 0)
        counts.removed += n
        if n and not ctx.dry_run:
            conn.execute(
                update(JOB_OFFER).where(expired).values(closed_at=t.valid_through, closed_reason=CLOSED_EXPIRED)
            )
        if full:
            try:
                close_missing(
                    conn,
                    JOB_OFFER,
                    ctx.source,
                    seen,
                    counts,
                    reason=CLOSED_MISSING,
                    now=ctx.now,
                    dry_run=ctx.dry_run,
                    limits=limits,
                    what="offres ouvertes",
                )
            except ImportRefused as exc:
                report.status, report.message = "refused", str(exc)
                full = False
        if full and not ctx.dry_run:
            # close_missing leaves row_hash as it was: blank it, so that the offer, should it come back
            # with the very same content, is seen as changed and reopened.
            conn.execute(
                update(JOB_OFFER)
                .where((t.source == ctx.source) & (t.closed_reason == CLOSED_MISSING) & (t.row_hash != ""))
                .values(row_hash="")
            )
        if not ctx.dry_run:
            conn.commit()


def import_offers(
    engine: Engine,
    source: str | Path,
    *,
    fmt: Format,
    dry_run: bool = False,
    full: bool = False,
    batch_size: int = 2000,
    is_demo: bool = False,
    now: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
    limits: ImportLimits | None = None,
    force: bool = False,
) -> ImportReport:
    """Import a job-offer feed (file or URL). Raises :class:`ImportRefused` for unusable input, before
    anything is written (see the module's docstring); a run stopped after some batches were written
    returns a report with ``status="refused"``.

    ``full``: the feed is the source's whole catalogue, and the open offers it lacks are closed (no more
    than ``limits`` allow, unless ``force``).
    ``is_demo``: demonstration data, stored under the source ``demo``.
    ``workers``: reader processes (:mod:`passerelles.importing.pipeline`); default: two for a big file.
    """
    if fmt not in FORMATS:
        raise ImportRefused(f"format inconnu : {fmt!r} (connus : {', '.join(FORMATS)})")
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    if now is None:
        now = dt.datetime.now(dt.UTC)
    now = now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now.astimezone(dt.UTC)
    limits = limits or ImportLimits()
    report = ImportReport(importer="offres", source=str(source), dry_run=dry_run)
    with tempfile.TemporaryDirectory(prefix="offres-") as tmp:
        path = extract(source, Path(tmp))
        reader = FeedReader(path, fmt)
        check_end(path, reader.layout)
        label = str(source) if path.parent == Path(tmp) else path.name
        with engine.connect() as conn:
            communes = CommuneIndex.load(conn)
        if not communes:
            raise ImportRefused("aucune commune en base : lancez d'abord « passerelles import communes »")
        ctx = ImportContext(
            source="demo" if is_demo else fmt,
            fmt=fmt,
            is_demo=is_demo,
            now=now,
            dry_run=dry_run,
            communes=communes,
            notes=Counter(),
            employers={},
            dialect=engine.dialect,
        )
        seen: set[str] = set()  # every identifier of the feed, loaded or rejected: what a full feed carries
        loaded: set[str] = set()
        batch: list[OfferRow] = []
        records = readable = anonymous = encoding = 0

        def reject(item: Outcome) -> None:
            nonlocal anonymous, encoding
            anonymous += item.ident is None
            encoding += (item.reason or "").startswith("encodage invalide")
            who = f"offre {item.ident}" if item.ident else "offre sans identifiant"
            counts = report.entity("job_offer")
            if len(report.rejects) >= MAX_DETAILED_REJECTS:
                counts.rejected += 1
                return
            report.reject(
                "job_offer",
                Reject(
                    source=label,
                    position=f"{who} ({item.unit} {item.index})",
                    field=item.field or "(enregistrement)",
                    reason=item.reason or "",
                    record=item.excerpt,
                ),
            )

        if workers is None:
            workers = auto_workers(path.stat().st_size)
        items = sharded(lambda shard, shards: read_records(reader, ctx, shard, shards), workers)
        if not dry_run:
            with engine.begin() as conn:
                restore_indexes(conn, [JOB_OFFER])  # those an import killed before its end left dropped
        id_field = "id" if fmt == "france_travail" else "identifier"
        counts = report.entity("job_offer")
        stopped: str | None = None  # why the run stopped before its end, with batches already written

        def checked() -> bool:
            """Before a batch is written: too many rejects so far refuse the file (written nothing yet:
            ImportRefused; else the run stops here)."""
            nonlocal stopped
            stopped = limits.stop_for_rejects(
                path.name, counts.rejected, records, written=ctx.batches > 0, encoding=encoding
            )
            return stopped is None

        iterator = iter(items)
        try:
            for item in iterator:
                records += 1
                readable += item.readable
                if item.notes:
                    ctx.notes.update(item.notes)
                offer = item.offer
                if offer is None:
                    if item.ident:
                        seen.add(item.ident)  # in the feed, though unreadable: not to be closed as absent
                    reject(item)
                    continue
                key = offer.row["external_id"]
                seen.add(key)
                if key in loaded:
                    item.ident, item.field = key, id_field
                    item.reason = "offre en double dans le flux : seule la première occurrence est gardée"
                    reject(item)
                    continue
                loaded.add(key)
                batch.append(offer)
                if len(batch) >= batch_size:
                    if not checked():
                        break
                    _load_batch(engine, batch, ctx, report)
                    batch = []
                    if progress:
                        progress(f"{len(loaded)} offres chargées…")
            iterator.close()  # a run stopped above: its reader processes end now
            complete = stopped is None and all(items.states)
            if records == 0:
                raise ImportRefused(f"{path.name} : aucune offre dans le fichier")
            if stopped is None and not complete:
                where = report.rejects[-1].position if report.rejects else ""
                message = f"{path.name} : fichier tronqué ou illisible ({where}) : il n'a pas été lu jusqu'au bout"
                if ctx.batches == 0:
                    raise ImportRefused(message + " ; fichier refusé, base inchangée")
                stopped = message
            if stopped is None and checked():
                if readable == 0:
                    raise ImportRefused(f"{path.name} : aucun enregistrement JSON lisible")
                if batch:
                    _load_batch(engine, batch, ctx, report)
        finally:
            iterator.close()
            if not dry_run:
                with engine.begin() as conn:
                    restore_indexes(conn, [JOB_OFFER])
        if stopped is not None:
            report.status = "refused"
            report.message = (
                f"{stopped} ; import arrêté : les {counts.created + counts.updated + counts.unchanged} offres "
                "des lots déjà écrits restent en base, aucune offre n'a été fermée"
            )
        if full and complete and anonymous:
            report.warnings.append(
                f"flux complet avec {anonymous} enregistrement(s) rejeté(s) sans identifiant lisible : "
                "si c'étaient des offres déjà connues, elles ont été fermées comme absentes du flux"
            )
        if stopped is None:
            _close(engine, ctx, full and complete, seen, report, None if force else limits)
        if not dry_run:
            refresh_market(engine, now=now)  # the occupation pages' labour-market figures
        for note, n in sorted(ctx.notes.items()):
            report.warnings.append(f"{n} offre(s) : {note}")
        if len(report.rejects) >= MAX_DETAILED_REJECTS:
            report.warnings.append(f"seuls les {MAX_DETAILED_REJECTS} premiers rejets sont détaillés")
    return report
