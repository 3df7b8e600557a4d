"""A record as the reader walks it: :class:`Node` trees with children by local tag (no ElementPath)."""

from __future__ import annotations

import re
from typing import Any

from passerelles.trainings.lheo.memo import MEMO, Steps


class Node:
    """One element of a record as the reader needs it: local tag, text, children by local tag.

    A record is turned into these in one pass (:func:`record_tree`): the reader then finds its fields with
    dictionary look-ups instead of lxml's ElementPath, which costs a few microseconds a call and made
    reading a record slower than parsing and validating it. ``el`` is the lxml element, for attributes
    and line numbers (alive until the record is cleared).

    A leaf (an element without children, most of them) stays the lxml element itself in ``kids``: only its
    ``text``, ``get`` and ``sourceline`` are read, which lxml has too. :meth:`find` may return one;
    :meth:`findall` and :func:`as_node` wrap them."""

    __slots__ = ("el", "kids", "tag")

    def __init__(self, el: Any, tag: str, kids: dict[str, list[Any]]) -> None:
        self.el = el
        self.tag = tag
        self.kids = kids

    @property
    def text(self) -> str | None:
        text: str | None = self.el.text  # read when needed only: most elements' texts are not
        return text

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self.el.get(name, default)
        return None if value is None else str(value)

    @property
    def sourceline(self) -> int | None:
        line = self.el.sourceline
        return None if line is None else int(line)

    def findall(self, path: str) -> list[Node]:
        """ElementPath's subset used by the layouts: ``a/b``, ``.``, ``a[@attr='value']``."""
        found = self._findall(path)
        return [n if type(n) is Node else _leaf(n) for n in found]

    def _findall(self, path: str) -> list[Any]:
        """:meth:`findall`, leaves left as lxml elements."""
        nodes: list[Any] = [self]
        steps = MEMO.steps.get(path)
        if steps is None:
            steps = MEMO.remember(MEMO.steps, path, _steps(path))
        for tag, attr, value in steps:
            if tag == ".":
                continue
            found: list[Any] = []
            for n in nodes:
                if type(n) is not Node:
                    continue  # a leaf
                kids = n.kids.get(tag)
                if kids:
                    found.extend(kids if attr is None else [k for k in kids if k.get(attr) == value])
            if not found:
                return found
            nodes = found
        return nodes

    def find(self, path: str) -> Any:
        """The first element at ``path``, or ``None``: a :class:`Node`, or the lxml element of a leaf."""
        kids = self.kids.get(path)  # the common case: one plain step
        if kids is not None:
            return kids[0]
        plain = MEMO.plain_paths.get(path, ())
        if plain == ():
            plain = MEMO.remember(MEMO.plain_paths, path, _plain(path))
        if plain is not None:
            # Down a chain of single elements (the usual shape); where an element repeats, the first match
            # may lie under a later one: ask findall.
            node: Any = self
            for tag in plain:
                if type(node) is not Node:
                    return None  # a leaf has no children
                kids = node.kids.get(tag)
                if kids is None:
                    return None
                if len(kids) > 1:
                    break
                node = kids[0]
            else:
                return node
        found = self._findall(path)
        return found[0] if found else None


def as_node(el: Any) -> Node | None:
    """``el`` as a :class:`Node` (a leaf kept as its lxml element is wrapped), or ``None``."""
    if el is None or type(el) is Node:
        return el
    return _leaf(el)


def _leaf(el: Any) -> Node:
    return Node(el, local_name(el.tag), _NO_KIDS)


_STEP = re.compile(r"^([^\[/]+)(?:\[@([^=\]]+)='([^']*)'\])?$")


def _steps(path: str) -> Steps:
    steps = []
    for part in path.split("/"):
        m = _STEP.match(part)
        if m is None:
            raise ValueError(f"chemin non pris en charge : {path!r}")
        steps.append((m.group(1), m.group(2), m.group(3)))
    return tuple(steps)


# LHÉO elements that no layout reads (descriptive texts, codes we do not map, the training organisation
# besides the responsible one): :func:`record_tree` leaves them out. A field read from one of them must be
# taken off this list.
UNREAD = frozenset(
    {
        "acces-handicapes",
        "certifiante",
        "code-modalite-pedagogique",
        "code-niveau-entree",
        "code-perimetre-recrutement",
        "code-UAI-organisme-formation",
        "contact-organisme",
        "conventionnement",
        "departement",
        "detail-conditions-prise-en-charge",
        "frais-restants",
        "hebergement",
        "langue-formation",
        "modalites-entrees-sorties",
        "modalites-pedagogiques",
        "niveau-entree-obligatoire",
        "nombre-heures-centre",
        "nombre-heures-entreprise",
        "objectif-general-formation",
        "organisme-formateur",
        "parcours-de-formation",
        "pays",
        "prise-en-charge-frais-possible",
        "region",
        "renseignements-specifiques",
    }
)
_NO_KIDS: dict[str, list[Any]] = {}  # shared by every leaf, never written to


def _plain(path: str) -> tuple[str, ...] | None:
    """The tags of a path made of plain steps only (no ``.``, no predicate), else ``None``."""
    steps = _steps(path)
    if any(tag == "." or attr is not None for tag, attr, _ in steps):
        return None
    return tuple(tag for tag, _, _ in steps)


_UNSEEN = ""


def record_tree(el: Any, local: str | None = None) -> Node:
    """``el`` and its descendants as :class:`Node` (namespaces dropped, comments, PIs and
    :data:`UNREAD` elements skipped; leaves kept as their lxml elements)."""
    kids: dict[str, list[Any]] = {}
    names = MEMO.local_names  # shared by every record of every document
    # getchildren(): the list made in one call, cheaper than iterating over the element.
    for child in el.getchildren():
        name = names.get(child.tag, _UNSEEN)
        if not name:
            if name is None:
                continue  # UNREAD
            tag = child.tag
            if type(tag) is not str:
                continue  # a comment, a processing instruction, an entity
            name = tag.rpartition("}")[2]
            name = MEMO.remember(names, tag, None if name in UNREAD else name)
            if name is None:
                continue
        node = record_tree(child, name) if len(child) else child
        if name in kids:
            kids[name].append(node)
        else:
            kids[name] = [node]
    return Node(el, local or el.tag.rpartition("}")[2], kids)


def text_of(el: Any) -> str | None:
    if el is None:
        return None
    value = el.text
    if value is None:
        return None
    value = value.strip()
    return None if value in ("", "-") else value


def texts_at(parent: Node, path: str) -> list[str]:
    return [t for t in map(text_of, parent._findall(path)) if t is not None]


def local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def path_to(el: Any, root: Any) -> str:
    parts: list[str] = []
    while el is not None and el is not root:
        if isinstance(el.tag, str):
            parts.append(local_name(el.tag))
        el = el.getparent()
    return "/".join(reversed(parts)) or local_name(root.tag)


def kid_text(node: Node, tag: str) -> str | None:
    """:func:`text_of` of ``node``'s first child ``tag`` (``node.find(tag)`` for a plain tag, without the
    path handling)."""
    kids = node.kids.get(tag)
    return None if kids is None else text_of(kids[0])


def kid_texts(node: Node, tag: str) -> list[str]:
    kids = node.kids.get(tag)
    if kids is None:
        return []
    return [t for t in map(text_of, kids) if t is not None]
