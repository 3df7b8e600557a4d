"""The fields of the tantivy index and how sessions and offers are laid out in them (buckets, map cells)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import tantivy

SCHEMA_VERSION = 3
# Result types weigh on the score (tantivy multiplies it by log2(2 + weight)): someone typing a name is
# first looking for the occupation or the diploma, then for offers and sessions of it.
TYPE_WEIGHT = {"occupation": 6.0, "certification": 3.0, "rome": 1.5, "training": 0.3, "offer": 0.0}
SNIPPET_CHARS = 280

TEXT_FIELDS = ("names", "alt", "body", "place")
# Sessions and offers also carry their words in "tiered" fields, each word suffixed with the record's
# bucket (``aide~o20680``: an offer published on day 20 680 since 1970-01-05; ``aide~t2954``: a session
# starting in week 2954): a search walks the buckets in the order users want (newest offers, soonest sessions) and stops
# once it has a page, reading a few tens of thousands of postings instead of the million documents.
# One marker term per record (``~o20680``) gives each bucket's size.
TIERED_FIELDS = {"names": "tn", "body": "tb", "place": "tp"}
# And, in "tg", the words of their names suffixed with their kind and map cell (``aide@o457:48``: an offer
# in the cell of 0.1° of latitude by 0.1° of longitude, about 11 × 8 km), plus a marker ``@o457:48``: a
# search around a commune reads the postings of the few cells its circle covers, then measures the exact
# distance of each candidate. The same again with cells five times larger (``aide@O91:9``, kind in
# capitals) for wide circles.
CELL_DEGREES = 0.1
COARSE_CELLS = 5
FACET_FIELDS = ("type", "region", "departement", "level", "route", "modality", "contract", "working_time")
# One session or offer in SAMPLE_RATE also carries its words (those of ``rw`` and ``place``) in "rs": the
# facets of a search matching hundreds of thousands of records are counted on that sample and scaled up
# (shown as approximate), a sixteenth of the postings to read. Chosen by a hash of the record's id.
SAMPLE_RATE = 16
SAMPLE_MARK = "~s"  # in ``rs`` of every sampled record: the sample of a search without words


def in_sample(record_id: int) -> bool:
    """Whether a record is in the facets' sample (Knuth's multiplicative hash, its top 4 bits)."""
    return ((record_id * 2654435761) & 0xFFFFFFFF) >> 28 == 0


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("key", stored=True, tokenizer_name="raw", index_option="basic")
    for name in (*FACET_FIELDS, "commune"):
        sb.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    # Pre-analysed by passerelles.search.text.analyze: tantivy only splits on spaces.
    sb.add_text_field("names", tokenizer_name="whitespace", index_option="position")
    sb.add_text_field("alt", tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("body", tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("place", tokenizer_name="whitespace", index_option="basic")
    sb.add_text_field("exact", tokenizer_name="raw", index_option="basic")
    for tiered in TIERED_FIELDS.values():
        sb.add_text_field(tiered, tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("tg", tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("rw", tokenizer_name="whitespace", index_option="basic")
    sb.add_text_field("rs", tokenizer_name="whitespace", index_option="basic")
    sb.add_text_field("point", fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_date_field("start", fast=True, indexed=True)
    sb.add_date_field("published", fast=True, indexed=True)
    sb.add_float_field("lat", fast=True, indexed=True)
    sb.add_float_field("lon", fast=True, indexed=True)
    sb.add_float_field("weight", fast=True)
    sb.add_bytes_field("payload", stored=True)
    return sb.build()


WEEK_ZERO = dt.date(1970, 1, 5).toordinal()  # a Monday


def week_of(day: dt.date) -> int:
    return (day.toordinal() - WEEK_ZERO) // 7


def bucket_of(kind: str, day: str | None) -> str:
    """The bucket of a session (``t`` + week of its start, counted from 1970-01-05) or an offer (``o`` + day
    of publication, counted from the same Monday: offers are many more); ``x`` when the date is unknown.
    Stable: a record never changes bucket as time passes, so an incremental update leaves the others alone."""
    if not day:
        return f"{kind[0]}x"
    date = dt.date.fromisoformat(day[:10])
    return f"o{date.toordinal() - WEEK_ZERO}" if kind == "offer" else f"t{week_of(date)}"


def cell_of(lat: float, lon: float, scale: int = 1) -> str:
    """The map cell of a point: ``scale`` × CELL_DEGREES on each side."""
    size = CELL_DEGREES * scale
    return f"{math.floor(lat / size)}:{math.floor(lon / size)}"


def add_tiered(doc: dict[str, Any], bucket: str, *, sampled: bool = False) -> None:
    """Move the words of ``names`` (+ ``alt``), ``body`` and ``place`` into the tiered fields of ``bucket``,
    the words of names into the field of the record's map cell, and every word once into ``rw``.

    Sessions and offers thus leave ``names``, ``alt`` and ``body`` to occupations and diplomas: the full
    query that ranks those reads a few thousand postings, not the million records'. (``place`` stays: it
    filters records by a place named in the text.) ``rw`` is only looked up (document frequencies, the
    vocabulary of typo candidates, facet counts), never ranked; nor is ``rs`` (``sampled``: see SAMPLE_RATE)."""
    names = dict.fromkeys((doc.pop("names", "") + " " + doc.pop("alt", "")).split())
    body = dict.fromkeys(doc.pop("body", "").split())
    place = dict.fromkeys(doc.get("place", "").split())
    doc["tn"] = " ".join([f"~{bucket}", *(f"{t}~{bucket}" for t in names)])
    if body:
        doc["tb"] = " ".join(f"{t}~{bucket}" for t in body)
    if place:
        doc["tp"] = " ".join(f"{t}~{bucket}" for t in place)
    if "lat" in doc and "lon" in doc:
        # The place as one value: a search sorted by distance counts records per place, then measures places.
        doc["point"] = f"{doc['lat']:.6f},{doc['lon']:.6f}"
        cells = (bucket[0] + cell_of(doc["lat"], doc["lon"]), bucket[0].upper() + cell_of(doc["lat"], doc["lon"], 5))
        doc["tg"] = " ".join(f"{t}@{cell}" for cell in cells for t in ("", *names))
    doc["rw"] = " ".join(dict.fromkeys([*names, *body]))
    if sampled:  # in the facets' sample: every word a search's facets look up, in one field
        doc["rs"] = " ".join(dict.fromkeys([SAMPLE_MARK, *names, *body, *place]))
