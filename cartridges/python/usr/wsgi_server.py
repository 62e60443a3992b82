"""Serve a repository's WSGI application on the gear's private address (Geartrain python cartridge).

Usage: wsgi_server.py <repo dir>. Loads `application` from wsgi.py, else app.py, in that directory, and
serves it with the standard library's wsgiref in threads on GEARTRAIN_PYTHON_IP:GEARTRAIN_PYTHON_PORT.
"""

import importlib.util
import os
import signal
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def load(repo):
    for name in ("wsgi.py", "app.py"):
        path = os.path.join(repo, name)
        if os.path.isfile(path):
            sys.path.insert(0, repo)
            spec = importlib.util.spec_from_file_location("geartrain_app", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            if not callable(getattr(module, "application", None)):
                sys.exit(f"{path} has no callable `application`")
            return module.application
    sys.exit(f"no wsgi.py or app.py in {repo}")


def main():
    repo = sys.argv[1]
    ip = os.environ["GEARTRAIN_PYTHON_IP"]
    port = int(os.environ["GEARTRAIN_PYTHON_PORT"])
    httpd = make_server(ip, port, load(repo), server_class=ThreadingWSGIServer, handler_class=WSGIRequestHandler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"serving {repo} on {ip}:{port}", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
