"""Where a server's hrefs may lead: inside the calendar collection they were listed for, on the origin
(scheme, host, port) plansync was configured with. Anything else (another user's collection, `..`
segments, encoded ones included, an absolute URL or a `//host` path to another host or port) is not
plansync's to read, write or delete, and never gets the password."""

from __future__ import annotations

from urllib.parse import quote, unquote, urljoin, urlsplit

Origin = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL, lower-cased and with the default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:  # a port that is not a number
        return None
    return scheme, parts.hostname.lower(), port


def _clean_path(path: str) -> str | None:
    """The path with percent-encoding undone and `.`/`..` segments resolved (RFC 3986 5.2.4), or None
    when it holds what no calendar object's path holds (a NUL, a backslash)."""
    decoded = unquote(path)
    if "\x00" in decoded or "\\" in decoded:
        return None
    out: list[str] = []
    for segment in decoded.split("/"):
        if segment == "..":
            if len(out) > 1:
                out.pop()
        elif segment != ".":
            out.append(segment)
    cleaned = "/".join(out)
    return cleaned if cleaned.startswith("/") else "/" + cleaned


def confine(href: str, collection_url: str, origin: Origin) -> str | None:
    """The href, as a path (percent-encoded the one way plansync spells them), when it names an object
    directly inside the collection at `collection_url` on `origin`; None for anything else."""
    resolved = urljoin(collection_url, href.strip())
    if origin_of(resolved) != origin:
        return None
    base = _clean_path(urlsplit(collection_url).path)
    path = _clean_path(urlsplit(resolved).path)
    if base is None or path is None:
        return None
    base = base if base.endswith("/") else base + "/"
    name = path[len(base) :] if path.startswith(base) else ""
    if not name or "/" in name:
        return None  # the collection itself, something deeper, or outside it
    return quote(path, safe="/@:+,;=!$&'()*~")


def inside(href: str, collection_url: str) -> bool:
    """A path plansync holds (from a confined listing) still lies directly inside the collection."""
    origin = origin_of(collection_url)
    return origin is not None and confine(href, collection_url, origin) is not None
