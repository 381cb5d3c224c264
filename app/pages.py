"""What every area's pages share: a posted form taken to the service, and what the user is told.

Views stay thin: :func:`perform` calls the service with the posted form (``request.form``, which
the service validates through the same ``Field`` s as the API's body; CSRFProtect has checked
the token before any view runs), flashes the success or the refusal, naming each refused field
by its label on the page, and redirects; a refusal rolls back whatever the call began.
(:func:`submit` is the older path, through a WTForms form's own validators.)
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable

from flask import current_app, flash, redirect, send_from_directory

from .errors import Conflict, Invalid, ServiceError
from .extensions import db

#: The refusals a page shows as a message; others (403, 404) go on to the error page.
REFUSALS: tuple[type[ServiceError], ...] = (Invalid, Conflict)


def flash_refusal(exc: ServiceError, label: Callable[[str], str] = str) -> None:
    """Roll back and flash why the service refused, every named field with ``label``."""
    from .i18n import translate

    db.session.rollback()
    # the joins are catalogue messages too: the reader's punctuation around what the service said
    details = translate("；").join(
        translate("%(field)s：%(why)s", field=translate(label(e["field"])), why=translate(e["message"]))
        if e.get("field") else translate(e["message"]) for e in exc.errors)
    flash(translate("%(detail)s（%(details)s）", detail=translate(exc.detail), details=details) if details
          else translate(exc.detail), "danger")


@contextmanager
def refusals_flashed(label: Callable[[str], str] = str, refusals: tuple = REFUSALS):
    """Around a service call from a page: a refusal is rolled back and flashed."""
    try:
        yield
    except refusals as exc:
        flash_refusal(exc, label)


def flash_form_errors(form) -> None:
    """One message per field the form itself refused, with the field's label."""
    from .i18n import translate

    for name, messages in form.errors.items():
        field = form[name] if name in form else None
        label = field.label.text if field is not None else name
        flash(translate("%(field)s：%(why)s", field=label, why=translate("；").join(messages)), "danger")


def submit(form, action: Callable[[], object], success: str | Callable[[object], str | tuple[str, str]],
           to: str, *, incomplete: str | None = None, refusals: tuple = REFUSALS):
    """The one way a posted page form reaches the service: validate ``form``, call ``action``,
    flash ``success`` (text, or a function of what ``action`` returned giving the text or
    ``(text, category)``) or the refusal, and redirect to ``to``. An incomplete form flashes
    ``incomplete`` or its field errors."""
    if form.validate_on_submit():
        with refusals_flashed(refusals=refusals):
            result = action()
            message = success(result) if callable(success) else success
            text, category = message if isinstance(message, tuple) else (message, "success")
            flash(text, category)
    elif incomplete:
        flash(incomplete, "danger")
    else:
        flash_form_errors(form)
    return redirect(to)


def labels_of(form) -> Callable[[str], str]:
    """A refused field's name as the page shows it: the label of the form's field of that name
    (``lines[0].quantity`` by its first part), else the name itself."""
    def label(name: str) -> str:
        head = name.split("[", 1)[0].split(".", 1)[0]
        if form is not None and head in form:
            return str(form[head].label.text)
        return line_label(name)

    return label


#: The fields of a form's lines (``lines[0].quantity``) by their names on the page.
LINE_FIELDS = {"quantity": "数量", "item": "物资", "item_code": "物资", "lot": "批次号", "expiry": "有效期至",
               "note": "备注", "received": "实收数量"}


def line_label(name: str) -> str:
    """``lines[0].quantity`` → 第 1 行 数量 (in the reader's language); other names unchanged.

    Only the fields of :data:`LINE_FIELDS` are reworded, so a name whose leaf has no label on the
    page (``levels[0].rank`` of a plan) stays the path its message refers to.
    """
    import re

    from .i18n import translate

    found = re.fullmatch(r"\w+\[(\d+)\]\.(\w+)", name)
    # A plan's levels[0].rank is a tier, not a form line: only the fields of lines are reworded.
    if not found or found.group(2) not in LINE_FIELDS:
        return name
    leaf = LINE_FIELDS.get(found.group(2), found.group(2))
    return translate("第 %(n)s 行", n=int(found.group(1)) + 1) + " " + translate(leaf)


def perform(action: Callable[[], object], success: str | Callable[[object], str | tuple[str, str]],
            to: str, *, form=None, refusals: tuple = REFUSALS):
    """Call ``action`` (a service call with the posted form), flash ``success`` (text, or a
    function of what ``action`` returned giving the text or ``(text, category)``) or the
    refusal with every field named by its label in ``form``, and redirect to ``to``."""
    from .i18n import translate

    with refusals_flashed(labels_of(form), refusals=refusals):
        result = action()
        message = success(result) if callable(success) else success
        text, category = message if isinstance(message, tuple) else (message, "success")
        # a message of the catalogue reads in the reader's language (values: translate(…, n=…))
        flash(translate(text), category)
    return redirect(to)


def service_worker_script(path: str, scope: str):
    """The static script ``path`` served as a service worker for ``scope`` (a page's own URL
    prefix): never cached by the browser, allowed to control that scope."""
    response = send_from_directory(current_app.static_folder, path, mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = scope
    return response
