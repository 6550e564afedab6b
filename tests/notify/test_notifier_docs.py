"""The notifier's module constants each carry their own docstring (the string right after the assignment)."""

from __future__ import annotations

import ast
from itertools import pairwise
from pathlib import Path

import camsift.notify.notifier as notifier


def module_body() -> list[ast.stmt]:
    return ast.parse(Path(notifier.__file__).read_text()).body


def docstring(node: ast.stmt) -> str | None:
    """The text of a bare string statement, else ``None``."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
        return node.value.value
    return None


def test_each_states_constant_has_its_own_docstring() -> None:
    docs = {
        node.targets[0].id: docstring(after)
        for node, after in pairwise(module_body())
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }

    assert docs["_DOWN_STATES"] == "Source states on the status board that count as down."
    assert (docs["_ACT_NOW_STATES"] or "").startswith("States only the owner can fix (Blink asks for a new login)")


def test_no_stray_string_statement_follows_a_docstring() -> None:
    strays = [docstring(b) for a, b in pairwise(module_body()) if docstring(a) and docstring(b)]

    assert strays == []
