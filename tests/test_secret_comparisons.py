"""Secrets are compared in constant time: `==` on a secret stops at the first wrong character, and how long
it takes tells a caller how much of a guess is right. This reads the code itself, so a new `==` on an
authenticator, a signature, a key or a token fails here, not in an attacker's stopwatch."""

import ast
import re
from pathlib import Path

from django.conf import settings

APPS = ("bindery", "storefront", "binding", "api", "sandbox")
SECRET = re.compile(r"authenticator|secret|signature|password|digest|hmac|api_?key|nonce|token$", re.I)


def _name(operand: ast.AST) -> str:
    """Return the name an operand is read under: a variable, an attribute, or the key of `x.get("…")` or
    `x["…"]` ("" for anything computed, such as `len(signature)`)."""
    match operand:
        case ast.Name(id=name) | ast.Attribute(attr=name):
            return name
        case ast.Subscript(slice=ast.Constant(value=str() as name)):
            return name
        case ast.Call(func=ast.Attribute(attr="get"), args=[ast.Constant(value=str() as name), *_]):
            return name
    return ""


def secret_equalities(root: Path) -> list[str]:
    """Return "file:line" for each `==` or `!=` with an operand named like a secret."""
    found = []
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not isinstance(node, ast.Compare) or not any(
                    isinstance(op, ast.Eq | ast.NotEq) for op in node.ops
                ):
                    continue
                operands = [node.left, *node.comparators]
                if any(SECRET.search(_name(operand)) for operand in operands):
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_no_secret_is_compared_with_equals():
    assert secret_equalities(Path(settings.BASE_DIR)) == []


def test_the_scan_finds_an_equality_on_a_secret(tmp_path):
    (tmp_path / "sandbox").mkdir()
    (tmp_path / "sandbox" / "views.py").write_text(
        'def check(params, expected):\n    return params.get("customerAuthenticator") == expected\n'
    )
    assert secret_equalities(tmp_path) == ["sandbox/views.py:2"]
