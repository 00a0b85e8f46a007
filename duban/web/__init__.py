"""``duban web``: the owner's pages (FastAPI, rendered on the server, no scripts)."""

from duban.web.app import create_app

__all__ = ["create_app"]
