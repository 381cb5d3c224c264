"""JSON API of the relief cycles (``/api/v1``), in the style of API.md, by subject: households
(受灾户), cycles with their transitions, beneficiaries and reviews (村评/乡审), rolls (frozen and
supplementary), public notices and complaints, payment batches and payments, reconstruction
progress, funds, the winter-spring needs tables and the declared jobs.

Routes are thin: each reads the request and calls one service function with the user first,
passing the JSON body as it came (the service validates it by the ``Field`` s these routes
document). Identity numbers and bank accounts are masked unless the caller may see them
(``household.view_id_number``).
"""
from __future__ import annotations

from . import condolence, cycles, funds, households, payments, reconstruction, rolls, winter  # noqa: F401 (routes)
from .common import bp

__all__ = ["bp"]
