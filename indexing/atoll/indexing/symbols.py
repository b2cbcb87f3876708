"""Symbols of one file from a tree-sitter parse and the language's ``.scm`` query.

Captures: ``@definition.<kind>`` on a definition node and ``@name`` on its name;
``@receiver`` names the container of an out-of-line method (Go, C++); ``@scope`` marks
a node that only names a container (a Rust ``impl``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atoll.indexing import model
from atoll.indexing.model import Symbol
from atoll.languages import Language

KINDS: dict[str, int] = {
    "class": model.CLASS,
    "function": model.FUNCTION,
    "method": model.METHOD,
    "struct": model.STRUCT,
    "enum": model.ENUM,
    "interface": model.INTERFACE,
    "module": model.MODULE,
    "namespace": model.NAMESPACE,
    "constant": model.CONSTANT,
    "variable": model.VARIABLE,
    "field": model.FIELD,
    "property": model.PROPERTY,
    "object": model.OBJECT,
    "enum_member": model.ENUM_MEMBER,
    "event": model.EVENT,
    "constructor": model.CONSTRUCTOR,
    "type": model.TYPE_PARAMETER,
}
# A function directly inside one of these is a method.
_TYPE_KINDS = frozenset(
    {model.CLASS, model.STRUCT, model.INTERFACE, model.OBJECT, model.ENUM, 0}  # 0: a scope
)
_SIGNATURE_MAX = 160
_COMMENT_MARKERS = re.compile(r"^\s*(///?!?|/\*\*?|\*/?|#+|--|;+)\s?")
_WRAPPERS = frozenset(
    {
        "type_declaration",
        "export_statement",
        "decorated_definition",
        "template_declaration",
        "lexical_declaration",
        "variable_declaration",
        "const_declaration",
        "var_declaration",
    }
)
_SKIPPED_SIBLINGS = ("attribute_item", "decorator", "annotation", "marker_annotation")


@dataclass
class _Def:
    node: Any
    kind: int  # 0 for a scope
    name: str
    name_node: Any
    receiver: str
    parent: _Def | None = None
    qualified: str = ""
    children: list[_Def] = field(default_factory=list)


class Positions:
    """Byte offsets → (line, character) for one file; cheap when the text is ASCII."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.ascii = data.isascii()
        self._lines: list[bytes] | None = None

    def column(self, row: int, byte_col: int) -> int:
        if self.ascii or byte_col == 0:
            return byte_col
        if self._lines is None:
            self._lines = self.data.split(b"\n")
        line = self._lines[row] if row < len(self._lines) else b""
        return len(line[:byte_col].decode("utf-8", "replace"))


def _text(node: Any) -> str:
    raw: bytes = node.text or b""
    return raw.decode("utf-8", "replace")


def _qml_id(node: Any) -> str:
    init = node.child_by_field_name("initializer")
    if init is None:
        return ""
    for child in init.named_children:
        if child.type == "ui_binding":
            name = child.child_by_field_name("name")
            if name is not None and name.text == b"id":
                value = child.child_by_field_name("value")
                return _text(value).strip().rstrip(";") if value is not None else ""
    return ""


def _signature(node: Any, data: bytes, kind: int, qml_id: str) -> str:
    if kind == model.OBJECT and qml_id:
        head = _text(node.child_by_field_name("type_name") or node)
        return f"{head} {{ id: {qml_id} }}"
    body = node.child_by_field_name("body")
    end = body.start_byte if body is not None and body.start_byte > node.start_byte else None
    if end is None:
        newline = data.find(b"\n", node.start_byte, node.end_byte)
        end = newline if newline != -1 else node.end_byte
    text = " ".join(data[node.start_byte : end].decode("utf-8", "replace").split())
    text = text.rstrip(" {:")
    return text if len(text) <= _SIGNATURE_MAX else text[: _SIGNATURE_MAX - 1] + "…"


def _first_line(text: str) -> str:
    for raw in text.splitlines():
        line = _COMMENT_MARKERS.sub("", raw).strip().removesuffix("*/").strip("*").strip()
        if line:
            return line[:_SIGNATURE_MAX]
    return ""


def _python_doc(node: Any) -> str:
    body = node.child_by_field_name("body")
    if body is None or body.named_child_count == 0:
        return ""
    string = body.named_child(0)  # not named_children: that lists the whole body
    if string.type == "expression_statement" and string.named_child_count:
        string = string.named_child(0)  # older grammars wrap the docstring
    if string.type != "string":
        return ""
    content = [c for c in string.named_children if c.type == "string_content"]
    return _first_line(_text(content[0]) if content else _text(string).strip("\"'rbuRBU"))


def _comment_doc(node: Any) -> str:
    parent = node.parent
    if parent is not None and parent.type in _WRAPPERS and parent.named_children[0].id == node.id:
        node = parent  # the comment sits above `export ...`, `type (...)`, `template<...>`
    lines: list[str] = []
    sibling = node.prev_named_sibling
    row = node.start_point[0]
    while sibling is not None:
        if sibling.type in _SKIPPED_SIBLINGS:
            row = sibling.start_point[0]
            sibling = sibling.prev_named_sibling
            continue
        end_row = sibling.end_point[0] - (1 if sibling.end_point[1] == 0 else 0)
        text = _text(sibling)
        if "comment" not in sibling.type or end_row < row - 1 or text.startswith("//!"):
            break
        lines.insert(0, text)
        row = sibling.start_point[0]
        sibling = sibling.prev_named_sibling
    return _first_line("\n".join(lines)) if lines else ""


def _collect(lang: Language, root: Any, query: Any) -> list[_Def]:
    from tree_sitter import QueryCursor

    found: dict[tuple[int, int, int], _Def] = {}
    for _, captures in QueryCursor(query).matches(root):
        names = captures.get("name")
        if not names:
            continue
        node = None
        kind = 0
        for key, nodes in captures.items():
            if key.startswith("definition."):
                node, kind = nodes[0], KINDS.get(key[11:], model.VARIABLE)
            elif key == "scope":
                node = nodes[0]
        if node is None:
            continue
        receiver_nodes = captures.get("receiver")
        receiver = _text(receiver_nodes[0]) if receiver_nodes else ""
        name = _text(names[0])
        if lang.object_ids and kind == model.OBJECT:
            name = _qml_id(node) or name
        span = (node.start_byte, node.end_byte, kind)
        if span not in found:
            found[span] = _Def(node, kind, name, names[0], receiver)
    return sorted(found.values(), key=lambda d: (d.node.start_byte, -d.node.end_byte))


def _nest(defs: list[_Def]) -> list[_Def]:
    """Set parents by range nesting; return the top-level definitions."""
    stack: list[_Def] = []
    top: list[_Def] = []
    for d in defs:
        while stack and stack[-1].node.end_byte < d.node.end_byte:
            stack.pop()
        if stack and stack[-1].node.start_byte <= d.node.start_byte:
            d.parent = stack[-1]
            stack[-1].children.append(d)
        else:
            top.append(d)
        stack.append(d)
    for d in defs:
        base = d.parent.qualified if d.parent is not None else ""
        if d.receiver:
            base = f"{base}.{d.receiver}" if base else d.receiver
        d.qualified = f"{base}.{d.name}" if base else d.name
        if d.kind == model.FUNCTION and (
            (d.parent is not None and d.parent.kind in _TYPE_KINDS) or d.receiver
        ):
            d.kind = model.METHOD
    return top


def extract_symbols(path: Path, lang: Language, data: bytes, tree: Any, query: Any) -> list[Symbol]:
    """Symbols of one parsed file, in source order (parents before their children)."""
    defs = _collect(lang, tree.root_node, query)
    _nest(defs)
    pos = Positions(data)
    out: list[Symbol] = []
    for d in defs:
        if d.kind == 0:
            continue
        node, name_node = d.node, d.name_node
        container = d.qualified[: -len(d.name) - 1] if d.qualified != d.name else ""
        qml_id = _qml_id(node) if lang.object_ids and d.kind == model.OBJECT else ""
        if lang.docstrings and d.kind in (model.CLASS, model.FUNCTION, model.METHOD):
            doc = _python_doc(node)
        else:
            doc = _comment_doc(node)
        (sr, sc), (er, ec) = node.start_point, node.end_point
        (nsr, nsc), (ner, nec) = name_node.start_point, name_node.end_point
        out.append(
            Symbol(
                name=d.name,
                kind=d.kind,
                container=container,
                path=path,
                language=lang.name,
                start_line=sr,
                start_col=pos.column(sr, sc),
                end_line=er,
                end_col=pos.column(er, ec),
                sel_start_line=nsr,
                sel_start_col=pos.column(nsr, nsc),
                sel_end_line=ner,
                sel_end_col=pos.column(ner, nec),
                signature=_signature(node, data, d.kind, qml_id),
                doc=doc,
            )
        )
    return out
