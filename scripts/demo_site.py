"""The demo bank's website on an origin of its own (`make run`: http://127.0.0.1:8001), embedding the widget
from the contact center as a company's real site would (docs/embedding.md). Standard library only.

    python scripts/demo_site.py --port 8001 --contact-center http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import functools
import http.server
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "web" / "demo"


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves web/demo; in its pages the widget's script comes from the contact center, not this site."""

    def __init__(self, *args: object, contact_center: str, **kwargs: object) -> None:
        self.contact_center = contact_center
        super().__init__(*args, directory=str(DEMO), **kwargs)  # type: ignore[arg-type]

    def do_GET(self) -> None:
        path = self.translate_path(self.path)
        if self.path.split("?", 1)[0].endswith("/"):
            path = str(Path(path) / "index.html")
        if not path.endswith(".html") or not Path(path).is_file():
            super().do_GET()
            return
        page = Path(path).read_text(encoding="utf-8")
        body = page.replace('src="/widget.js"', f'src="{self.contact_center}/widget.js"').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return  # quiet: `make run` prints the server's log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--contact-center", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    handler = functools.partial(Handler, contact_center=args.contact_center.rstrip("/"))
    with http.server.ThreadingHTTPServer((args.host, args.port), handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
