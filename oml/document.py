"""Loading YAML with the line of every value, so each OML problem can name its path and line.

The parsing is the spine's (:mod:`spine.located_yaml`); this module turns its problems into OML issues.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from oml.errors import Issue, OmlCode
from spine.located_yaml import COMPOSER, Located, Path, load_located, render_path

_CODES = {
    "syntax": OmlCode.YAML_SYNTAX,
    "empty": OmlCode.NOT_A_MAPPING,
    "duplicate_key": OmlCode.DUPLICATE_KEY,
}


@dataclass
class Document(Located):
    def issue(self, code: OmlCode, path: Sequence[str | int], message: str) -> Issue:
        return Issue(code, render_path(path), self.line(path), message)


def load_document(text: str) -> tuple[Document | None, list[Issue]]:
    """Parse ``text``; on a syntax error return no document and the one issue naming its line."""
    located, problems = load_located(text)
    issues = [Issue(_CODES[p.kind], render_path(p.path), p.line, p.message) for p in problems]
    return (None if located is None else Document(located.data, located.lines)), issues


__all__ = ["COMPOSER", "Document", "Path", "load_document", "render_path"]
