"""Entry point for gunicorn (``gunicorn wsgi:app``) and the CLI (``flask --app wsgi``).

``JIUZAI_INSTANCE_PATH`` (an absolute path) names the instance folder; the default is
``instance/`` beside the code."""
import os

from app import create_app

app = create_app(instance_path=os.environ.get("JIUZAI_INSTANCE_PATH") or None)
