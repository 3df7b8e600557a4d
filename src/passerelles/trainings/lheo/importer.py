"""The LHÉO import as a whole (:func:`import_lheo`): read by one or more processes, deduplicated in file
order, loaded in batches, reported."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from passerelles.importing.limits import ImportLimits
from passerelles.importing.pipeline import auto_workers, sharded
from passerelles.importing.report import ImportRefused, ImportReport, Reject
from passerelles.settings import default_data_dir, lheo_schema
from passerelles.trainings.counts import forget_counts
from passerelles.trainings.lheo.extract import check_plain_file, local_file, open_catalogue
from passerelles.trainings.lheo.loader import Loader
from passerelles.trainings.lheo.reader import ParsedFormation, reject_position
from passerelles.trainings.lheo.references import References
from passerelles.trainings.lheo.rows import ENTITIES
from passerelles.trainings.lheo.stream import ReadSummary, read_catalogue
from passerelles.trainings.lheo.summaries import SUMMARY_ROOTS, import_summaries, link_summaries, root_name


def add_reject(
    report: ImportReport, file_name: str, entity: str, position: str, field: str, reason: str, count: int = 1
) -> None:
    report.reject(entity, Reject(source=file_name, position=position, field=field, reason=reason))
    report.entity(entity).rejected += count - 1


class Deduplicate:
    """First occurrence wins: a formation or session identifier read a second time is rejected. Applied
    in file order, after the records were read (possibly by several processes)."""

    def __init__(self, report: ImportReport, file_name: str) -> None:
        self.report = report
        self.file_name = file_name
        self.trainings: dict[str, int] = {}
        self.sessions: set[str] = set()

    def __call__(self, f: ParsedFormation) -> ParsedFormation | None:
        first = self.trainings.setdefault(f.training["external_id"], f.line)
        if first != f.line:
            reason = f"formation en double : déjà lue ligne {first}"
            add_reject(
                self.report, self.file_name, "training", f"{f.label} (ligne {f.line})", f.duplicate_field, reason
            )
            return None
        for o in f.outcomes:
            if o.session is None:
                add_reject(
                    self.report, self.file_name, o.entity, reject_position(o.position), o.field, o.reason or "", o.count
                )
            elif o.session["external_id"] in self.sessions:
                position = reject_position(o.position)
                add_reject(self.report, self.file_name, o.entity, position, o.field, "session en double")
            else:
                self.sessions.add(o.session["external_id"])
                f.sessions.append(o.session)
                f.session_bounds.append(o.bound)
        f.outcomes = []
        return f


def import_lheo(
    engine: Engine,
    source: str | Path,
    *,
    dry_run: bool = False,
    full: bool = False,
    batch_size: int = 1000,
    is_demo: bool = False,
    xsd: Path | None = None,
    workers: int | None = None,
    limits: ImportLimits | None = None,
    force: bool = False,
) -> ImportReport:
    """Import an LHÉO catalogue (1.3, 2.2 or 2.3): file, ``.gz``, ``.zip`` or URL.

    Raises :class:`ImportRefused` when nothing can be imported (unknown namespace, hostile DOCTYPE, not
    XML). ``xsd`` is the LHÉO 2.3 schema (default: ``shared/data/lheo/lheo-2.3.xsd`` beside the clone).
    ``workers``: reader processes (:mod:`passerelles.importing.pipeline`); default: two for a big file.
    ``limits``: rejects and closings beyond them refuse the run (``force``: close all the same).
    """
    if batch_size < 1:
        raise ValueError("batch_size doit être positif")
    limits = limits or ImportLimits()
    file_name = str(source).rstrip("/").rsplit("/", 1)[-1]
    report = ImportReport(importer="lheo", source=str(source), dry_run=dry_run)
    for name in ENTITIES:
        report.entity(name)
    try:
        return _import(
            engine, source, file_name, report, dry_run, full, batch_size, is_demo, xsd, workers, limits, force
        )
    except ImportRefused as exc:
        if str(exc).startswith(f"{file_name} :"):
            raise
        raise ImportRefused(f"{file_name} : {exc}") from None  # the message names the file
    finally:
        forget_counts()  # the counts this process kept may be stale now


def _import(
    engine: Engine,
    source: str | Path,
    file_name: str,
    report: ImportReport,
    dry_run: bool,
    full: bool,
    batch_size: int,
    is_demo: bool,
    xsd: Path | None,
    workers: int | None,
    limits: ImportLimits,
    force: bool,
) -> ImportReport:
    schema_path = xsd or lheo_schema(default_data_dir())
    origin = "demo" if is_demo else "lheo"
    refs = References.load(engine)
    loader = Loader(engine, origin, is_demo, report, file_name)
    with local_file(source) as path:
        check_plain_file(path)
        with open_catalogue(path) as stream:
            _namespace, root = root_name(stream)
        if root in SUMMARY_ROOTS:  # LHÉO « léger »: summaries pointing at the full offers
            return import_summaries(
                engine,
                path,
                file_name,
                report,
                Deduplicate(report, file_name),
                is_demo=is_demo,
                xsd=schema_path,
                limits=limits,
                full=full,
                force=force,
            )
        if workers is None:
            workers = auto_workers(path.stat().st_size)

        def produce(shard: int, shards: int) -> Generator[Any, None, ReadSummary]:
            base = {"source": origin, "is_demo": is_demo}
            return read_catalogue(path, refs, file_name, schema_path, shard, shards, base, engine.dialect)

        dedup = Deduplicate(report, file_name)
        items = sharded(produce, workers)
        batch: list[ParsedFormation] = []
        loader.restore_indexes()  # those an import killed before its end left dropped
        unlinked: dict[str, int] = {}
        read = formations_rejected = sessions = 0  # what was read, to weigh the rejects against
        stopped: str | None = None  # too many rejects, after some batches were written

        def checked() -> bool:
            """Before a batch is written: too many rejects refuse the file (nothing written yet:
            ImportRefused; else the run stops here)."""
            nonlocal stopped
            rejected = report.totals.rejected
            records = read + sessions + max(0, rejected - formations_rejected)
            stopped = limits.stop_for_rejects(file_name, rejected, records, written=loader.committed)
            return stopped is None

        iterator = iter(items)
        try:
            for rejects, parsed, codes in iterator:
                read += 1
                for r in rejects:
                    report.reject("training", r)
                if codes:
                    for code, n in codes.items():
                        unlinked[code] = unlinked.get(code, 0) + n
                formation = dedup(parsed) if parsed is not None else None
                if formation is None:
                    formations_rejected += 1
                else:
                    sessions += len(formation.sessions)
                    batch.append(formation)
                    if len(batch) >= batch_size:
                        if not checked():
                            break
                        loader.load(batch)
                        batch = []
            iterator.close()
            state = items.states[items.ended_by] if stopped is None else ReadSummary(report.version, [], None)
            if state.broken is not None and not loader.committed:
                line, message = state.broken
                raise ImportRefused(
                    f"{file_name} : fichier tronqué ou illisible à la ligne {line} ({message}) ; "
                    "fichier refusé, base inchangée"
                )
            if stopped is None and state.broken is None and checked() and batch:
                loader.load(batch)
        finally:
            iterator.close()
            loader.restore_indexes()
    report.version = state.version or report.version
    report.warnings[:0] = state.warnings  # those of the root element, found before any other
    broken = state.broken
    records = items.count
    written = sum(report.entity("training").model_dump()[k] for k in ("created", "updated", "unchanged"))
    if stopped is not None:
        report.status = "refused"
        report.message = (
            f"{stopped} ; import arrêté : les {written} formation(s) des lots déjà écrits restent en base, "
            "aucune session n'a été fermée"
        )
        if full:
            report.warnings.append("import arrêté : aucune session fermée malgré --full")
    elif broken is not None:
        line, message = broken
        report.status = "refused"
        report.message = (
            f"fichier tronqué ou illisible à la ligne {line} ({message}) : les {written} formation(s) des "
            "lots déjà écrits restent en base, la suite du fichier n'a pas été importée"
        )
        report.reject(
            "training",
            Reject(source=file_name, position=f"ligne {line}", field="(fichier)", reason=f"XML illisible : {message}"),
        )
        if full:
            report.warnings.append("flux incomplet : aucune session fermée malgré --full")
    elif full:
        loader.close_missing(None if force else limits)
    if records == 0:
        report.warnings.append("aucune formation dans le fichier")
    if not dry_run and not is_demo and link_summaries(engine):
        report.warnings.append("résumés d'offres (LHÉO léger) reliés aux sessions de leurs offres complètes")
    if unlinked:
        codes = ", ".join(sorted(unlinked, key=lambda c: (-unlinked[c], c))[:10])
        more = f" et {len(unlinked) - 10} autre(s)" if len(unlinked) > 10 else ""
        report.warnings.append(
            f"{len(unlinked)} code(s) RNCP absent(s) du référentiel des certifications du projet, formations "
            f"gardées sans lien de certification : {codes}{more}"
        )
    return report
