"""Spring Festival (春节): the first day of the first month of the Chinese calendar, from
`sxtwl <https://pypi.org/project/sxtwl/>`_ (the 寿星天文历 algorithms: new moons and solar terms
computed astronomically), so there is no table whose end silently stops the winter-spring
checks. Known dates are tested against the published ones (``tests/test_cycles_festival.py``)."""
from __future__ import annotations

from datetime import date
from functools import lru_cache

import sxtwl


@lru_cache(maxsize=256)
def spring_festival(year: int) -> date:
    """The Gregorian date of Spring Festival in ``year`` (正月初一 of the lunar year that begins in it).

    >>> spring_festival(2026)
    datetime.date(2026, 2, 17)
    """
    day = sxtwl.fromLunar(year, 1, 1)
    return date(day.getSolarYear(), day.getSolarMonth(), day.getSolarDay())
