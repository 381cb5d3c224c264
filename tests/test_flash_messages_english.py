"""Every message a page flashes reads in English too (issue 20): the views' messages are catalogue
messages (values through ``translate(…, n=…)``, never an f-string), each with its English."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from flask_babel import force_locale, gettext

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")
TRANSLATING = {"translate", "gettext", "_", "t"}


def _flashed() -> tuple[list[str], list[tuple[str, int, str]]]:
    """(f-strings flashed, [(file, line, message)]) over every ``views.py`` of the app."""
    fstrings, messages = [], []
    for path in sorted((ROOT / "app").rglob("views.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None)
            shown = {"flash": node.args[:1], "perform": node.args[1:2]}.get(name, [])
            candidates = shown + (node.args[:1] if name in TRANSLATING else [])
            for arg in candidates:
                messages += [(str(path.relative_to(ROOT)), sub.lineno, sub.value) for sub in ast.walk(arg)
                             if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and CJK.search(sub.value)]
        # a Chinese f-string anywhere in a view (a success message built in a helper, a file
        # name) reaches the reader untranslated
        fstrings += [f"{path.relative_to(ROOT)}:{node.lineno}" for node in ast.walk(tree)
                     if isinstance(node, ast.JoinedStr) and CJK.search(ast.unparse(node))]
    return fstrings, messages


def test_pages_flash_catalogue_messages_with_their_english(app):
    fstrings, messages = _flashed()
    assert not fstrings, f"flash a catalogue message with its values instead: {fstrings}"
    assert len(messages) > 50
    with app.test_request_context("/?lang=en"), force_locale("en"):
        missing = [f"{name}:{line}: {text}" for name, line, text in messages if gettext(text) == text]
    assert not missing, "\n".join(missing)


def test_a_flashed_message_reads_in_the_readers_language(app, client, auth):
    auth.login("coordinator", "140000")
    client.get("/?lang=en")
    response = client.post("/notifications/read-all", follow_redirects=True)
    assert "notifications marked as read" in response.get_data(as_text=True)
