"""Resident identity numbers (公民身份号码, GB 11643-1999) and masking for pages and exports.

Pure: no Flask, no database.

An 18-character number is a 6-digit address code, an 8-digit birth date, a 3-digit sequence and
a check character computed from the first 17 digits (ISO 7064 MOD 11-2): each digit is weighted
by ``2**(17-i) mod 11``, the weighted sum is taken mod 11 and mapped onto ``10X98765432``.

>>> check_character("11010519491231002")
'X'
>>> mask_id("140105199001011234")
'1401**********1234'
>>> mask_name("王小明")
'王*明'
"""
from __future__ import annotations

from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"


class IdNumberError(ValueError):
    """An identity number that fails GB 11643. ``str()`` says why in Chinese; ``message`` (the
    catalogue message, with ``%(name)s`` placeholders) and ``params`` are for the reader's
    language, translated where the error is shown (``translate(exc.message, **exc.params)``):
    this module stays free of Flask."""

    def __init__(self, message: str, **params):
        super().__init__(message % params if params else message)
        self.message, self.params = message, params


def check_character(first17: str) -> str:
    """The check character (``0``–``9`` or ``X``) for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise IdNumberError("前 17 位必须是数字")
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS))
    return CHECK_CHARACTERS[total % 11]


def normalise(number: str, today: date | None = None) -> str:
    """Strip spaces and upper-case a trailing ``x``; raise :class:`IdNumberError` if invalid.

    Checks the length, the digits, the birth date (a real date, not after ``today`` (default
    ``date.today()``), not before 1900) and the check character.
    """
    text = str(number or "").strip().replace(" ", "").upper()
    if len(text) != 18:
        raise IdNumberError("身份证号码必须是 18 位（当前 %(n)s 位）", n=len(text))
    if not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise IdNumberError("身份证号码前 17 位必须是数字，最后一位是数字或 X")
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise IdNumberError("出生日期 %(date)s 不是有效日期", date=text[6:14]) from None
    if born.year < 1900 or born > (today or date.today()):
        raise IdNumberError("出生日期 %(date)s 不合理", date=text[6:14])
    expected = check_character(text[:17])
    if text[17] != expected:
        raise IdNumberError("校验码错误：最后一位应为 %(check)s", check=expected)
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


def is_valid(number: str) -> bool:
    try:
        normalise(number)
    except IdNumberError:
        return False
    return True


def with_check_character(first17: str) -> str:
    """Complete 17 digits into a valid 18-character number (for demo data and tests)."""
    return first17 + check_character(first17)


def mask_id(number: str | None) -> str:
    """``1401**********1234``: the first four and last four characters kept."""
    if not number:
        return ""
    text = str(number)
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def mask_name(name: str | None) -> str:
    """Names as usually shown in a public notice (公示): ``王*``, ``王*明``, ``欧阳**华``."""
    if not name:
        return ""
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_account(account: str | None) -> str:
    """Bank accounts on pages: the last four digits only (exports for the bank keep them whole)."""
    if not account:
        return ""
    return "*" * max(len(account) - 4, 0) + account[-4:]
