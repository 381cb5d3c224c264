"""Excel workbooks (.xlsx) in and out, shared by every area.

Writing (导出): every workbook the system writes is filled with :func:`put` and saved with
:func:`workbook_bytes`. Text that a spreadsheet would take for a formula — it begins with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return (OWASP "CSV injection") — gets a leading
apostrophe and is stored as a string cell, never a formula; characters the xlsx format cannot
hold are dropped; numbers, dates and booleans stay what they are. :func:`workbook_bytes` sweeps
every cell again before saving, so a value written past :func:`put` cannot come out as a formula
either.

Reading (导入): :func:`open_sheet` refuses, before openpyxl parses anything, a file that is not
an .xlsx (old .xls, encrypted, CSV, a damaged zip), whose zip members would expand beyond
``SPREADSHEET_MAX_UNZIPPED_BYTES`` or with an absurd compression ratio (a zip bomb), and whose
declared sheet size exceeds ``SPREADSHEET_MAX_ROWS`` × ``SPREADSHEET_MAX_COLUMNS``. It reads in
openpyxl's read-only streaming mode, and :meth:`UploadedSheet.rows` never yields a row wider than
the column cap (a stray cell at XFD1 does not make every row 16,384 cells wide) nor more rows
than the row cap. Every refusal is an :class:`~app.errors.Invalid` (422) naming the form field,
or a :class:`~app.uploads.TooLarge` (413) for a file over ``SPREADSHEET_MAX_BYTES``.
"""
from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from flask import current_app, has_app_context
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from .errors import Invalid
from .config import Defaults
from .uploads import TooLarge, human_size

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: What a cell's text may not begin with (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

#: Members smaller than this are never judged by their ratio (tiny files compress oddly).
_RATIO_FLOOR = 1024 * 1024
_MAX_MEMBERS = 10_000
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, and every password-protected .xlsx
#: What zipfile raises for a damaged archive (a bad CRC, a truncated member, an unknown method).
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError,
               NotImplementedError)
_DIMENSION_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,30}:)?dimension[\s/>]")
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,30}:)?row[\s/>]")


def setting(key: str) -> int:
    """A spreadsheet limit from the configuration (:mod:`app.config` has the defaults, which
    also serve outside an application)."""
    if has_app_context():
        return int(current_app.config[key])
    return int(getattr(Defaults, key))


# --- writing ------------------------------------------------------------------------------------

def escape(value):
    """``value`` made safe for a cell: formula-leading text gets an apostrophe, characters the
    xlsx format cannot hold are dropped; anything but text is returned unchanged."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith(FORMULA_TRIGGERS):
            return "'" + value
    return value


def unescape(value):
    """The text :func:`escape` was given: an apostrophe that only guards formula-leading text is
    dropped, so that a workbook exported and imported again reads the same."""
    if isinstance(value, str) and value.startswith("'") and value[1:2] and value[1] in FORMULA_TRIGGERS:
        return value[1:]
    return value


def put(sheet, row: int, column: int, value):
    """Write ``value`` into a cell through :func:`escape`; text is always a string cell (never a
    formula, nor an error value like ``#N/A``). Returns the cell, for styling."""
    cell = sheet.cell(row=row, column=column)
    cell.value = escape(value)
    if isinstance(cell.value, str):
        cell.data_type = "s"
    return cell


def new_workbook(title: str | None = None) -> Workbook:
    """A new workbook whose first sheet is called ``title`` (cut to Excel's 31 characters)."""
    book = Workbook()
    if title:
        book.active.title = title[:31]
    return book


def workbook_bytes(book: Workbook) -> bytes:
    """The saved .xlsx, after a last sweep that turns any formula or formula-leading text left
    in any cell into escaped text."""
    for sheet in book.worksheets:
        # ``_cells`` holds only the cells that exist; iter_rows would create the empty ones.
        for cell in sheet._cells.values():
            value = cell.value
            if cell.data_type == "f" or (isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)):
                cell.value = escape(str(value))
                cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- reading ------------------------------------------------------------------------------------

def _refuse(field: str, detail: str, message: str) -> Invalid:
    return Invalid(detail, [{"field": field, "message": message}])


def _buffer(source: bytes | BinaryIO, field: str, limit: int) -> BinaryIO:
    """A seekable binary stream over the upload, refused (413) when longer than ``limit``."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        stream: BinaryIO = io.BytesIO(bytes(source))
    elif source.seekable():
        stream = source
    else:
        data = source.read(limit + 1)
        stream = io.BytesIO(data)
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    if size > limit:
        raise TooLarge(f"Excel 文件不能超过 {human_size(limit)}。",
                       [{"field": field, "message": f"文件过大（上限 {human_size(limit)}）"}])
    if size == 0:
        raise _refuse(field, "上传的文件为空。", "文件为空")
    return stream


def _check_archive(stream: BinaryIO, field: str) -> None:
    """Refuse what is not an .xlsx, or would expand too far, from the zip directory alone."""
    head = stream.read(8)
    stream.seek(0)
    if head == _OLE_MAGIC:
        raise _refuse(field, "这是旧版 .xls 文件或已加密的 Excel 文件，请在 Excel 中取消密码并另存为 .xlsx 后再上传。",
                      "不是 .xlsx 文件（旧版 .xls 或已加密）")
    not_xlsx = _refuse(field, "上传的文件不是有效的 Excel (.xlsx) 文件，请在 Excel 中另存为 .xlsx 后再上传。",
                       "不是有效的 .xlsx 文件")
    if not head.startswith(b"PK"):
        raise not_xlsx
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except _ZIP_ERRORS as exc:
        raise not_xlsx from exc
    finally:
        stream.seek(0)
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise not_xlsx
    cap, ratio = setting("SPREADSHEET_MAX_UNZIPPED_BYTES"), setting("SPREADSHEET_MAX_COMPRESSION_RATIO")
    bomb = _refuse(field, "Excel 文件解压后过大或压缩比异常（疑似“压缩炸弹”），已拒绝读取。",
                   f"解压后超过上限 {human_size(cap)} 或压缩比超过 {ratio}:1")
    if len(members) > _MAX_MEMBERS or sum(m.file_size for m in members) > cap:
        raise bomb
    for member in members:
        if member.file_size > _RATIO_FLOOR and member.file_size > ratio * max(member.compress_size, 1):
            raise bomb
    max_rows = setting("SPREADSHEET_MAX_ROWS")
    try:
        with zipfile.ZipFile(stream) as archive:
            for member in members:
                if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml") \
                        and _undeclared_rows(archive, member) > max_rows:
                    raise _refuse(field, f"工作表超过 {max_rows} 行，请分成几个文件上传。", f"行数超过上限 {max_rows}")
    except _ZIP_ERRORS as exc:
        raise not_xlsx from exc
    finally:
        stream.seek(0)


def _undeclared_rows(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> int:
    """0 for a sheet that declares its size (``<dimension>``); else the number of its rows.

    openpyxl parses a sheet without a declared size from end to end as it opens the workbook,
    keeping an element per row; counting the row tags first (bytes, not XML) keeps a
    millions-of-empty-rows sheet from getting that far.
    """
    with archive.open(member) as xml:
        data = xml.read(1 << 16)
        if _DIMENSION_TAG.search(data):
            return 0
        count, seen = 0, 0
        while data:
            count += sum(1 for m in _ROW_TAG.finditer(data) if m.end() > seen)
            tail = data[-64:]  # a tag cut by the block boundary is counted in the next block
            data = xml.read(1 << 20)
            data, seen = (tail + data, len(tail)) if data else (b"", 0)
        return count


class UploadedSheet:
    """One worksheet of an uploaded workbook, read row by row in read-only mode.

    Use as a context manager (or call :meth:`close`); :meth:`rows` yields ``(row number,
    values)`` with at most ``max_columns`` values per row and stops with a 422 past
    ``max_rows``.
    """

    def __init__(self, book, sheet, field: str, max_rows: int, max_columns: int):
        self._book, self.sheet, self.field = book, sheet, field
        self.max_rows, self.max_columns = max_rows, max_columns

    @property
    def title(self) -> str:
        return self.sheet.title

    def rows(self) -> Iterator[tuple[int, tuple]]:
        """Every row from the first, as ``(row number, values)``, values being cached values
        (``data_only``) cut to the column cap; the apostrophe of escaped text is removed."""
        limit = self.max_rows
        try:
            for number, values in enumerate(self.sheet.iter_rows(max_col=self.max_columns, max_row=limit + 1,
                                                                 values_only=True), start=1):
                if number > limit:
                    raise _refuse(self.field, f"工作表「{self.title}」超过 {limit} 行，请分成几个文件上传。",
                                  f"行数超过上限 {limit}")
                yield number, tuple(unescape(v) for v in values)
        except Invalid:
            raise
        except Exception as exc:  # a damaged sheet: bad XML, bad CRC, forbidden entities, ...
            raise _refuse(self.field, "Excel 文件已损坏或格式不正确，无法读取。",
                          f"无法读取工作表「{self.title}」") from exc

    def close(self) -> None:
        self._book.close()

    def __enter__(self) -> "UploadedSheet":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_sheet(source: bytes | BinaryIO, *, field: str = "file", sheet: str | None = None) -> UploadedSheet:
    """Check an uploaded workbook and open one of its sheets for reading.

    Parameters
    ----------
    source : bytes or a binary stream (a werkzeug ``FileStorage.stream``)
    field : str
        The form field the file came in, named in every error.
    sheet : str, optional
        The sheet to read when the workbook has it; otherwise the first sheet.

    Raises
    ------
    TooLarge
        The file is over ``SPREADSHEET_MAX_BYTES`` (413).
    Invalid
        Not a readable .xlsx, a zip bomb, or a sheet declared larger than the caps (422).
    """
    max_rows, max_columns = setting("SPREADSHEET_MAX_ROWS"), setting("SPREADSHEET_MAX_COLUMNS")
    stream = _buffer(source, field, setting("SPREADSHEET_MAX_BYTES"))
    _check_archive(stream, field)
    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, ValueError, XML errors, ... for a damaged file
        raise _refuse(field, "Excel 文件已损坏或格式不正确，无法读取。", "无法读取工作簿") from exc
    if not book.worksheets:
        book.close()
        raise _refuse(field, "Excel 文件中没有工作表。", "没有工作表")
    chosen = book[sheet] if sheet and sheet in book.sheetnames else book.worksheets[0]
    if not hasattr(chosen, "iter_rows"):  # a chart sheet
        book.close()
        raise _refuse(field, "第一个工作表不是表格。", "不是表格")
    declared_rows, declared_columns = chosen.max_row, chosen.max_column
    if (declared_rows or 0) > max_rows or (declared_columns or 0) > max_columns:
        book.close()
        extent = f"A1:{get_column_letter(min(declared_columns or 1, 16384))}{declared_rows or 1}"
        raise _refuse(field, f"工作表「{chosen.title}」的范围 {extent} 超出限制（最多 {max_rows} 行、{max_columns} 列）。"
                             "请删除多余的行和列（包括只有格式的空白单元格）后另存，或分成几个文件上传。",
                      f"表格范围 {extent} 超过 {max_rows} 行 × {max_columns} 列")
    return UploadedSheet(book, chosen, field, max_rows, max_columns)
