"""What every area's pages share: a posted form taken to the service, and what the user is told.

Views stay thin: :func:`submit` validates the form (and its CSRF token), calls the service,
flashes the success or the refusal and redirects; a refusal rolls back whatever the call began.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable

from flask import flash, redirect

from .errors import Conflict, Invalid, ServiceError
from .extensions import db

#: The refusals a page shows as a message; others (403, 404) go on to the error page.
REFUSALS: tuple[type[ServiceError], ...] = (Invalid, Conflict)


def flash_refusal(exc: ServiceError, label: Callable[[str], str] = str) -> None:
    """Roll back and flash why the service refused, every named field with ``label``."""
    db.session.rollback()
    details = "；".join(f"{label(e['field'])}：{e['message']}" if e.get("field") else e["message"]
                       for e in exc.errors)
    flash(exc.detail + (f"（{details}）" if details else ""), "danger")


@contextmanager
def refusals_flashed(label: Callable[[str], str] = str, refusals: tuple = REFUSALS):
    """Around a service call from a page: a refusal is rolled back and flashed."""
    try:
        yield
    except refusals as exc:
        flash_refusal(exc, label)


def flash_form_errors(form) -> None:
    """One message per field the form itself refused, with the field's label."""
    for name, messages in form.errors.items():
        field = form[name] if name in form else None
        label = field.label.text if field is not None else name
        flash(f"{label}：{'；'.join(messages)}", "danger")


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
