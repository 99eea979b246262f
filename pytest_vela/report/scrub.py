"""A generated report that asks no one but the host that serves it.

Allure 3's Awesome page includes Google's analytics script (hard-coded in 3.18) and its bundle
names one more third-party address (the Playwright trace viewer, opened for Playwright traces,
which these results never hold). ``scrub`` removes the analytics from every HTML page — the
script tags that load it and the inline script that calls it — and points the trace viewer at
nothing; ``third_party_requests`` lists whatever would still load from elsewhere.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path

# <script …src="https://…"…></script>, and <link|img|iframe …(src|href)="https://…"> that load
_EXTERNAL_SCRIPT = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^\"'\s>]+[^>]*>\s*</script>", re.I
)
_INLINE_SCRIPT = re.compile(r"<script\b[^>]*>(?P<body>.*?)</script>", re.I | re.S)
_TRACKERS = ("googletagmanager", "google-analytics", "gtag(", "dataLayer")
_LOADING = re.compile(
    r"<(?P<tag>script|link|img|iframe|source|video|audio|embed|object)\b[^>]*?"
    r"\b(?:src|href|data)\s*=\s*[\"']?(?P<url>(?:https?:)?//[^\"'\s>]+)",
    re.I,
)
_EMBEDDED = re.compile(r"(?P<head>src=[\"']data:text/javascript;base64,)(?P<data>[A-Za-z0-9+/=]+)")
_SMALL = 4000  # an inline analytics snippet is short; the report's own bundle is not
_PLAYWRIGHT = "https://trace.playwright.dev"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def scrub_html(text: str) -> str:
    text = _EXTERNAL_SCRIPT.sub("", text)

    def inline(match: re.Match[str]) -> str:
        body = match["body"]
        tracker = len(body) <= _SMALL and any(marker in body for marker in _TRACKERS)
        return "" if tracker else match.group(0)

    text = _INLINE_SCRIPT.sub(inline, text)

    def embedded(match: re.Match[str]) -> str:  # a single-file report's bundle
        script = _embedded_script(match)
        if script is None or _PLAYWRIGHT not in script:
            return match.group(0)
        clean = script.replace(_PLAYWRIGHT, "about:blank").encode("utf-8", "surrogateescape")
        return match["head"] + base64.b64encode(clean).decode("ascii")

    text = _EMBEDDED.sub(embedded, text)
    return text.replace(_PLAYWRIGHT, "about:blank")


def _embedded_script(match: re.Match[str]) -> str | None:
    try:
        return base64.b64decode(match["data"], validate=True).decode("utf-8", "surrogateescape")
    except (binascii.Error, ValueError):
        return None


def scrub(output: Path) -> list[Path]:
    """Scrub every HTML page and script bundle of a generated report; returns those changed."""
    changed = []
    for path in sorted([*output.rglob("*.html"), *output.rglob("*.js")]):
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        clean = (
            scrub_html(text) if path.suffix == ".html" else text.replace(_PLAYWRIGHT, "about:blank")
        )
        if clean != text:
            path.write_text(clean, encoding="utf-8", errors="surrogateescape")
            changed.append(path)
    return changed


def _host(url: str) -> str:
    return url.split("//", 1)[1].split("/", 1)[0].split("?", 1)[0]


def third_party_requests(output: Path) -> list[str]:
    """What a report's pages would still load from a host other than the local one, and any
    analytics left in them (empty for a clean report)."""
    found = []
    for path in sorted(output.rglob("*.html")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in _LOADING.finditer(text):
            host = _host(match["url"]).rsplit(":", 1)[0] if "]" not in match["url"] else ""
            if host and host not in LOCAL_HOSTS:
                found.append(f"{path.name}: <{match['tag']}> {match['url']}")
        scripts = [text] + [s for m in _EMBEDDED.finditer(text) if (s := _embedded_script(m))]
        for script in scripts:
            for marker in ("googletagmanager", "google-analytics", _PLAYWRIGHT):
                if marker in script:
                    found.append(f"{path.name}: {marker}")
    for path in sorted(output.rglob("*.js")):
        if _PLAYWRIGHT in path.read_text(encoding="utf-8", errors="replace"):
            found.append(f"{path.name}: {_PLAYWRIGHT}")
    return found
