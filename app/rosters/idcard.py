"""Resident identity numbers (公民身份号码, GB 11643-1999) on the rosters: checked, with the birth
date they carry, and masked for the roles that need not see them. Pure: no Flask, no database.

An 18-character number is a 6-digit address code, an 8-digit birth date, a 3-digit sequence and
a check character over the first 17 digits (ISO 7064 MOD 11-2, weights ``2**(17-i) mod 11``).

>>> normalise("11010519491231002x")
'11010519491231002X'
>>> mask("140105199001011234")
'1401**********1234'
"""
from __future__ import annotations

from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"


class IdNumberError(ValueError):
    """A number that fails GB 11643; the message says why, in Chinese."""


def check_character(first17: str) -> str:
    """The check character of 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise IdNumberError("前 17 位必须是数字")
    return CHECK_CHARACTERS[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def normalise(number: str, today: date | None = None) -> str:
    """The number without spaces and with an upper-case ``X``; :class:`IdNumberError` when its
    length, digits, birth date (real, from 1900, not after ``today``) or check character is wrong."""
    text = str(number or "").strip().replace(" ", "").upper()
    if len(text) != 18:
        raise IdNumberError(f"身份证号码必须是 18 位（当前 {len(text)} 位）")
    if not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise IdNumberError("前 17 位必须是数字，最后一位是数字或 X")
    born = birth_date(text)
    if born is None or born.year < 1900 or born > (today or date.today()):
        raise IdNumberError(f"出生日期 {text[6:14]} 不合理")
    expected = check_character(text[:17])
    if text[17] != expected:
        raise IdNumberError(f"校验码错误：最后一位应为 {expected}")
    return text


def birth_date(number: str) -> date | None:
    """The birth date a number carries (``None`` when it is not a date)."""
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def age_on(number: str, day: date) -> int | None:
    """Full years of age on ``day`` by the number's birth date."""
    born = birth_date(number)
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def with_check_character(first17: str) -> str:
    """17 digits completed into a valid number (demo data, tests, the benchmark)."""
    return first17 + check_character(first17)


def mask(number: str | None) -> str:
    """The first four and last four characters kept."""
    if not number:
        return ""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
