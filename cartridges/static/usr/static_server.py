"""Read-only static file server of the Geartrain static cartridge.

Usage: static_server.py <root> <ip> <port>. GET and HEAD only; a directory serves its index.html (no
listings); any path with a component starting with '.' (e.g. .geartrain/) is 404; symbolic links are not
followed out of the root.
"""

import os
import signal
import sys
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer


class Handler(SimpleHTTPRequestHandler):
    server_version = "geartrain-static"
    sys_version = ""

    def send_head(self):
        path = self.translate_path(self.path)
        rel = os.path.relpath(path, self.directory)
        real = os.path.realpath(path)
        root = os.path.realpath(self.directory)
        hidden = any(part.startswith(".") for part in rel.split(os.sep) if part not in ("", "."))
        if hidden or (real != root and not real.startswith(root + os.sep)):
            self.send_error(404, "Not found")
            return None
        if os.path.isdir(path) and not os.path.isfile(os.path.join(path, "index.html")):
            self.send_error(404, "Not found")
            return None
        return super().send_head()

    def list_directory(self, path):
        self.send_error(404, "Not found")
        return None


def main():
    root, ip, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    httpd = ThreadingHTTPServer((ip, port), partial(Handler, directory=root))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"serving {root} on {ip}:{port}", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
