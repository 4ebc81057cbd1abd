"""A minimal XML tree and serializer: prefixes are written as given, escaping is done here."""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr


@dataclass
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)


def el(tag: str, attrs: dict[str, str] | None = None, *children: Node | str | None) -> Node:
    """An element; `None` children and empty attributes are dropped, so optional parts read
    naturally (XHTML forbids e.g. an empty `class`)."""
    kept = {name: value for name, value in (attrs or {}).items() if value}
    return Node(tag, kept, [child for child in children if child is not None])


def render(node: Node | str) -> str:
    if isinstance(node, str):
        return escape(node)
    attrs = "".join(f" {name}={quoteattr(value)}" for name, value in node.attrs.items())
    if not node.children:
        return f"<{node.tag}{attrs}/>"
    inner = "".join(render(child) for child in node.children)
    return f"<{node.tag}{attrs}>{inner}</{node.tag}>"
