"""The `SchemaSource` the CLI and the App plug into the core: local catalog files and http(s) URLs, cached on disk.

Remote schemas are fetched with a timeout, a wall-clock deadline and a size cap, and cached
by URL (also "not found") for ``ttl_seconds``. Anything else than a schema or a 404 raises
`SchemaFetchError`, which the core reports against the kind it was looking for.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from http.client import HTTPMessage
from pathlib import Path
from typing import IO

from bot import __version__
from bot.core.schemas.catalog import CatalogAccess, SchemaFetchError

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024  # the largest CRD schemas in datreeio/CRDs-catalog are a few MB
DEFAULT_TTL_SECONDS = 24 * 3600
_CHUNK = 64 * 1024
_MISSING = ".missing"


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s): a catalog host must not send the bot to ftp:// or file://."""

    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: HTTPMessage, newurl: str
    ) -> urllib.request.Request | None:
        if not newurl.startswith(("http://", "https://")):
            raise urllib.error.HTTPError(newurl, code, f"redirect to {newurl.split(':')[0]}: refused", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class SchemaFetcher:
    """Reads expanded schema locations; one instance may serve many evaluations and threads."""

    def __init__(
        self,
        cache_dir: Path | None,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
    ) -> None:
        self.cache_dir = cache_dir
        self.timeout_seconds = timeout_seconds
        self.max_bytes = max_bytes
        self.ttl_seconds = ttl_seconds
        self._opener = urllib.request.build_opener(_HttpOnlyRedirects())

    def fetch(self, location: str) -> bytes | None:
        if location.startswith(("http://", "https://")):
            return self._fetch_url(location)
        if "://" in location:
            raise SchemaFetchError(f"unsupported scheme {location.split('://')[0]}:// (use http(s) or a local path)")
        return self._read_file(Path(location))

    # -- local catalogs -----------------------------------------------------------------------

    def _read_file(self, path: Path) -> bytes | None:
        try:
            with path.open("rb") as handle:
                data = handle.read(self.max_bytes + 1)
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            return None
        except OSError as err:
            raise SchemaFetchError(err.strerror or str(err)) from None
        if len(data) > self.max_bytes:
            raise SchemaFetchError(f"the file is larger than {self.max_bytes} bytes")
        return data

    # -- remote catalogs ----------------------------------------------------------------------

    def _fetch_url(self, url: str) -> bytes | None:
        cached = self._cached(url)
        if cached is not None:
            return cached or None  # b"": a cached "not found"
        data = self._download(url)
        self._store(url, data)
        return data

    def _download(self, url: str) -> bytes | None:
        request = urllib.request.Request(url, headers={"User-Agent": f"gitops-policy-bot/{__version__}"})
        deadline = time.monotonic() + self.timeout_seconds
        try:
            with self._opener.open(request, timeout=self.timeout_seconds) as response:
                length = response.headers.get("Content-Length")
                if length and length.isdigit() and int(length) > self.max_bytes:
                    raise SchemaFetchError(f"the response is larger than {self.max_bytes} bytes ({length})")
                chunks, size = [], 0
                while True:
                    chunk = response.read(_CHUNK)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise SchemaFetchError(f"the response is larger than {self.max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise SchemaFetchError(f"timed out after {self.timeout_seconds:g}s")
                    chunks.append(chunk)
                return b"".join(chunks)
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            raise SchemaFetchError(f"HTTP {err.code} {err.reason}".strip()) from None
        except urllib.error.URLError as err:
            raise SchemaFetchError(f"unreachable ({_reason(err.reason)})") from None
        except TimeoutError:
            raise SchemaFetchError(f"timed out after {self.timeout_seconds:g}s") from None
        except OSError as err:  # reset connections, TLS failures
            raise SchemaFetchError(f"unreachable ({_reason(err)})") from None

    # -- the on-disk cache --------------------------------------------------------------------

    def _entry(self, url: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / hashlib.sha256(url.encode("utf-8")).hexdigest()

    def _cached(self, url: str) -> bytes | None:
        """The cached bytes (b"" for a cached 404), or None when absent or expired."""
        entry = self._entry(url)
        if entry is None:
            return None
        for path, missing in ((entry.with_suffix(".json"), False), (entry.with_suffix(_MISSING), True)):
            try:
                if time.time() - path.stat().st_mtime > self.ttl_seconds:
                    continue
                return b"" if missing else path.read_bytes()
            except OSError:
                continue
        return None

    def _store(self, url: str, data: bytes | None) -> None:
        entry = self._entry(url)
        if entry is None:
            return
        try:
            entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # (the cache directory)
            target = entry.with_suffix(_MISSING if data is None else ".json")
            stale = entry.with_suffix(".json" if data is None else _MISSING)
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data or b"")
            os.replace(tmp, target)
            stale.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only or full disk only costs a refetch next time


def _reason(reason: object) -> str:
    text = getattr(reason, "strerror", None) or str(reason)
    return str(text)[:200]


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    """Where the CLI caches remote schemas: ``$XDG_CACHE_HOME/gitops-bot/schemas`` (else ``~/.cache``)."""
    base = environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "gitops-bot" / "schemas"


def catalog_access(
    locations: tuple[str, ...], cache_dir: Path | None, *, repository_may_add: bool
) -> CatalogAccess:
    """The CLI: its flags, and repositories may add; the App: the operator's list, repositories select."""
    return CatalogAccess(SchemaFetcher(cache_dir), tuple(locations), repository_may_add)
