"""Security headers on every HTTP response (issue 11, Low; docs/security.md "HTTP headers").

Every response: `X-Content-Type-Options: nosniff` (a browser never runs a JSON body or an upload as script).
Every HTML page: a Content-Security-Policy that allows only this origin's scripts (no inline script, no eval),
and forbids framing (`frame-ancestors 'none'` with `X-Frame-Options: DENY` for older browsers): the staff pages
cannot be clickjacked. Styles: the rule editor's React bundle and the widget insert <style> elements, so
style-src allows inline styles; scripts never do.

Other sites load /widget.js: a script's own response headers do not limit the page that loads it, and
nosniff only needs its text/javascript type, so the widget stays loadable (no Cross-Origin-Resource-Policy).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# The rule editor's bundle runs zen-engine's WebAssembly, fetched from a data: URL it carries (nothing else
# differs): that page alone allows data: connections and compiling WebAssembly (not JavaScript eval).
EDITOR_CSP = PAGE_CSP.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'").replace(
    "connect-src 'self'", "connect-src 'self' data:"
)
# Not a page (JSON, scripts, files): nothing in it may load anything, and it may not be framed either.
OTHER_CSP = "default-src 'none'; frame-ancestors 'none'"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, exempt: tuple[str, ...] = ()) -> None:
        # `exempt`: path prefixes left without a CSP (FastAPI's /docs, only when CC_API_DOCS is on).
        self.app, self.exempt = app, exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exempt = any(scope["path"].startswith(p) for p in self.exempt)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
                extra = [(b"x-content-type-options", b"nosniff")]
                # A 304 has no Content-Type, and the browser merges its headers into the page it cached: a
                # CSP here (OTHER_CSP, "default-src 'none'") would replace the page's and block its own CSS
                # and scripts after a reload. The cached response keeps the policy it came with.
                if not exempt and message["status"] != 304:
                    extra.append((b"content-security-policy", (PAGE_CSP if html else OTHER_CSP).encode()))
                    extra.append((b"x-frame-options", b"DENY"))
                extra.append((b"referrer-policy", b"same-origin"))
                message["headers"] = headers + [(k, v) for k, v in extra if k not in names]
            await send(message)

        await self.app(scope, receive, with_headers)
