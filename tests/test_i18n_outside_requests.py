"""Translated labels work outside a request (``flask demo load``, the scheduler): Chinese."""
from __future__ import annotations


def test_demo_step_labels_format_outside_a_request(app):
    from app import demo

    with app.app_context():
        first = next(demo.load(lambda _line: None))  # formats the first lazy label, runs no step

    assert first.startswith("== ") and "区划" in first


def test_locale_outside_a_request_is_the_default(app):
    from app.i18n import select_locale

    with app.app_context():
        assert select_locale() == app.config["BABEL_DEFAULT_LOCALE"]
