"""Locale selection: Chinese first (zh_CN), English on request (``?lang=en``, remembered).

An English page also gets English punctuation: the templates write Chinese full-width marks
around translated words and data (``{{ _('用户') }}：``, ``名称（代码）``), and
:func:`english_punctuation` turns them into their ASCII forms in every HTML page served in
English, so no page reads "User：admin（140000）".
"""
from __future__ import annotations

import re

from flask import Flask, Response, has_request_context, request, session
from flask_babel import Babel, get_locale, gettext

#: The parts of a page a form submits as they are: textareas and value attributes.
_FORM_VALUES = re.compile(r"""(<textarea\b[^>]*>.*?</textarea>|\svalue="[^"]*"|\svalue='[^']*')""",
                          re.IGNORECASE | re.DOTALL)

#: Full-width punctuation and its English form (the ideographic space indents options).
_ENGLISH_PUNCTUATION = str.maketrans({
    "（": " (", "）": ")", "：": ": ", "，": ", ", "；": "; ", "、": ", ", "。": ". ", "！": "! ",
    "？": "? ", "「": "\u201c", "」": "\u201d", "《": "\u201c", "》": "\u201d",
    "\u3000": "\u00a0\u00a0", "～": "~", "％": "%", "＋": "+", "／": "/"})


def select_locale() -> str:
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the CLI (flask demo load), the scheduler: Chinese
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    wanted = request.args.get("lang")
    if wanted in languages:
        session["lang"] = wanted
        return wanted
    if session.get("lang") in languages:
        return session["lang"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask, babel: Babel) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=translation_directories())
    app.after_request(english_punctuation)


def translate(message: str, **params) -> str:
    """``gettext`` where there is a reader (a request), the Chinese message outside one (CLI,
    scheduler): the one way a service's message reaches the reader's language."""
    if has_request_context():
        return gettext(message, **params)
    return message % params if params else message


def english_punctuation(response: Response) -> Response:
    """An HTML page served in English with its full-width punctuation in ASCII forms."""
    if (response.mimetype != "text/html" or response.direct_passthrough or response.is_streamed
            or str(get_locale()) != "en"):
        return response
    text = response.get_data(as_text=True)
    # What a form sends back (a textarea's text, an input's value) is the user's own text: changing
    # its punctuation would change the data on the next save.
    parts = _FORM_VALUES.split(text)
    english = "".join(part if index % 2 else
                      part.translate(_ENGLISH_PUNCTUATION).replace(" ( ", " (").replace("  (", " (")
                      for index, part in enumerate(parts))
    if english != text:
        response.set_data(english)
    return response


def translation_directories() -> str:
    """``translations`` (what every page shares) and each area's own ``<area>/translations``,
    relative to the ``app`` package, as Flask-Babel takes them; the catalogs are merged."""
    from . import areas

    return ";".join(["translations", *(f"{area.name}/translations" for area in areas.AREAS)])
