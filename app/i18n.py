"""Locale selection: Chinese first (zh_CN), English on request (``?lang=en``, remembered).

An English page also gets English punctuation, in the page's own words only: the templates write
Chinese full-width marks around translated words and data (``{{ _('用户') }}：``,
``{{ name }}（{{ code }}）``), and :class:`PagePunctuation` gives each such piece of template
text an English form when the template is compiled, which an English page shows, so no page
reads "User：admin（140000）". The catalogues' English messages are written with ASCII
punctuation. What a template shows of the data (``{{ request.reason }}``: what a person typed)
is never rewritten, whatever its punctuation.
"""
from __future__ import annotations

import re

from flask import Flask, has_request_context, request, session
from flask_babel import Babel, get_locale, gettext
from jinja2.ext import Extension
from jinja2.lexer import Token
from markupsafe import Markup

#: The parts of template text a form submits as they are: textareas and value attributes.
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
    app.jinja_env.add_extension(PagePunctuation)
    app.jinja_env.globals[PagePunctuation.CHOOSE] = _page_text


def translate(message: str, **params) -> str:
    """``gettext`` where there is a reader (a request), the Chinese message outside one (CLI,
    scheduler): the one way a service's message reaches the reader's language."""
    if has_request_context():
        return gettext(message, **params)
    return message % params if params else message


def named(name: str, code: str) -> str:
    """A label "名称（代码）" in the reader's language ("Name (code)"): what a choice or a picker
    built in Python shows of a region, a depot or an item; ``name`` and ``code`` as they are."""
    return translate("%(name)s（%(code)s）", name=name, code=code)


def english_punctuation(text: str) -> str:
    """``text`` (a page's own words, never data) with its full-width punctuation in ASCII forms;
    a form value or textarea in it is left as it is (a form sends it back)."""
    parts = _FORM_VALUES.split(text)
    return "".join(part if index % 2 else
                   part.translate(_ENGLISH_PUNCTUATION).replace(" ( ", " (").replace("  (", " (")
                   for index, part in enumerate(parts))


def _page_text(chinese: str, english: str) -> Markup:
    """A piece of template text as the reader's page shows it (template text is markup)."""
    return Markup(english if has_request_context() and str(get_locale()) == "en" else chinese)


class PagePunctuation(Extension):
    """The page's own punctuation in the reader's language, decided when a template is compiled:
    each piece of template text holding full-width marks, and each string literal of nothing but
    such marks printed or set (``{{ '、' if not loop.last }}``, ``join('、')``,
    ``{% set who = name ~ '（' ~ role ~ '）' %}``), becomes a choice between it and its English
    form (:func:`english_punctuation`). What ``{{ … }}`` prints of the data (what people typed)
    never passes through here; neither does text inside ``{% trans %}`` (a catalogue message) nor
    a literal a condition compares (``{% if label.endswith('（' ~ unit ~ '）') %}``)."""

    CHOOSE = "_jiuzai_page_text"

    def filter_stream(self, stream):
        tokens = list(stream)
        in_trans, block, printing = False, None, False
        for index, token in enumerate(tokens):
            if token.type == "block_begin":
                block = ""
            elif token.type == "block_end":
                block = None
            elif block == "" and token.type == "name":
                block = token.value
                if block in ("trans", "endtrans"):
                    in_trans = block == "trans"
            elif token.type in ("variable_begin", "variable_end"):
                printing = token.type == "variable_begin"
            if token.type == "data" and not in_trans:
                yield from self._choice(token, variable=False)
            elif (token.type == "string" and (printing or block == "set") and _only_marks(token.value)
                  and not _a_key_or_msgid(tokens, index)):
                yield from self._choice(token, variable=True)
            else:
                yield token

    def _choice(self, token, *, variable: bool):
        english = english_punctuation(token.value)
        if english == token.value:
            yield token
            return
        line = token.lineno
        call = (Token(line, "name", self.CHOOSE), Token(line, "lparen", "("), Token(line, "string", token.value),
                Token(line, "comma", ","), Token(line, "string", english), Token(line, "rparen", ")"))
        if variable:
            yield from call
        else:
            yield from (Token(line, "variable_begin", "{{"), *call, Token(line, "variable_end", "}}"))


def _a_key_or_msgid(tokens: list, index: int) -> bool:
    """The string literal at ``index`` is a dict key (``{"、": …}``) or a catalogue message
    (``_("、")``): it names something, and must read the same in every language."""
    after = tokens[index + 1] if index + 1 < len(tokens) else None
    if after is not None and after.type == "colon":
        return True
    return (index >= 2 and tokens[index - 1].type == "lparen" and tokens[index - 2].type == "name"
            and tokens[index - 2].value in ("_", "gettext", "ngettext", "tr"))


def _only_marks(text: str) -> bool:
    """A string literal of full-width punctuation only (a joiner, a bracket)."""
    return any(ord(c) in _ENGLISH_PUNCTUATION for c in text) and all(
        ord(c) in _ENGLISH_PUNCTUATION or c.isspace() for c in text)


def translation_directories() -> str:
    """``translations`` (what every page shares) and each area's own ``<area>/translations``,
    relative to the ``app`` package, as Flask-Babel takes them; the catalogs are merged."""
    from . import areas

    return ";".join(["translations", *(f"{area.name}/translations" for area in areas.AREAS)])
