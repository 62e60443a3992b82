"""Starter application of the Geartrain python cartridge (a WSGI callable). Replace it with your own."""

import os
import sys


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/health":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok\n"]
    app = os.environ.get("GEARTRAIN_APP_NAME", "app")
    host = os.environ.get("GEARTRAIN_POSTGRESQL_DB_HOST")
    db = f"PostgreSQL at {host}:{os.environ.get('GEARTRAIN_POSTGRESQL_DB_PORT')}" if host else "none"
    body = (
        f"<!doctype html>\n<title>{app}</title>\n<h1>Welcome to {app}</h1>\n"
        f"<p>Served by Python {sys.version.split()[0]} (WSGI) on Geartrain.</p>\n<p>Database: {db}</p>\n"
    )
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [body.encode()]
