"""The cycles' API blueprint and what its routes share: the JSON body as it came, and workbooks
sent as attachments."""
from __future__ import annotations

import io

from flask import request, send_file

from ...api import XLSX, api_blueprint

bp = api_blueprint("cycles_api", __name__)


def body():
    """The request's JSON body as it came (``None`` when it is not JSON): the service checks it."""
    return request.get_json(silent=True)


def xlsx(content: bytes, name: str):
    return send_file(io.BytesIO(content), as_attachment=True, download_name=name, mimetype=XLSX)
