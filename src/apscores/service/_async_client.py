"""The asynchronous client; ``_sync_client.py`` is generated from this file.

Only this file is written by hand: ``python scripts/unasync.py`` writes the synchronous
client from it (``AsyncClient`` -> ``Client``, ``await`` removed...), and ``.ci/run``
checks with ``--check`` that the two never drift, as ``httpcore`` does. The clients only
send, retry, sleep and stream; every request, every reading of a response and every
retry decision comes from the sans-I/O modules of :mod:`apscores.service`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import anyio
import anyio.to_thread
import httpx
from typing_extensions import Self

from apscores._atomic import AtomicFile
from apscores.errors import DownloadError
from apscores.service import _download as dl
from apscores.service import _local, _retry
from apscores.service import _wire as wire
from apscores.service._base import BaseClient, SessionBase
from apscores.service._flow import (
    AsyncObserver,
    Fetch,
    FlowRunner,
    Generate,
    Notify,
    Progress,
    Saved,
    Step,
    download_flow,
    notify,
)
from apscores.service._models import DownloadResult, GeneratedFile
from apscores.service._settings import (
    DEFAULT_DEADLINE,
    DEFAULT_TIMEOUT,
    DownloadKind,
    Format,
    Secret,
    check_di_code,
    check_format,
    check_kind,
)

__all__ = ["AsyncClient", "AsyncFiles", "AsyncInstitution", "AsyncSession"]

logger = logging.getLogger("apscores")
T = TypeVar("T")


class AsyncClient(BaseClient):
    """A client for College Board's AP Higher Education Score Reports web service.

    The sync and async clients share this surface; only ``await`` differs. Use it as a
    context manager, or call ``aclose()``.

    Args:
        email: The College Board professional account's email address; default
            ``APSCORES_EMAIL``.
        password: Its password (sent base64-encoded, never logged or shown); default
            ``APSCORES_PASSWORD``.
        base_url: The API's base URL; default ``APSCORES_BASE_URL``, else College Board's
            production gateway. Point it at ``apscores sandbox serve`` to rehearse.
        timeout: Each attempt's timeouts: an ``httpx.Timeout``, or seconds to wait for an
            answer (read), which also caps the others. Default: 10 s to connect, 120 s
            between reads (``full`` files can take that long to prepare), 60 s to send,
            10 s for a pooled connection.
        deadline: Seconds one operation (a call, or a download, with their retries) may
            take before it gives up (default 300; ``None``: only ``max_retries`` bounds
            it). No retry starts after it; a file already arriving is not cut.
        max_retries: Further attempts after a failed call (default 3), with exponential
            backoff and jitter, honouring ``Retry-After``.
        retry_base_delay: The first wait in seconds (default 0.5); 0 retries at once.
        retry_max_delay: The longest wait (default 30); a ``Retry-After`` above it ends
            the retries.
        http_client: An ``httpx.AsyncClient`` to send with (proxies, certificates, a
            test transport); it is left open for its owner.

    Attributes:
        session: Login state (:class:`AsyncSession`); calls log in by themselves.
        files: The raw steps (:class:`AsyncFiles`): generate, download, record.

    Raises:
        ConfigurationError: for missing credentials or an unusable option.
    """

    def __init__(
        self,
        *,
        email: str | None = None,
        password: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        deadline: float | None = DEFAULT_DEADLINE,
        max_retries: int = 3,
        retry_base_delay: float = 0.5,
        retry_max_delay: float = 30.0,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            email=email,
            password=password,
            base_url=base_url,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
            retry_base_delay=retry_base_delay,
            retry_max_delay=retry_max_delay,
        )
        self._owns_http = http_client is None
        self._http = (
            http_client
            if http_client is not None
            else httpx.AsyncClient(timeout=self._settings.timeout)
        )
        self.session = AsyncSession(self)
        self.files = AsyncFiles(self)

    def institution(self, di_code: str | int) -> AsyncInstitution:
        """One institution (a 4-digit DI code, as a string to keep leading zeros)."""
        return AsyncInstitution(self, check_di_code(di_code))

    async def aclose(self) -> None:
        """Close the HTTP client this client made; an injected one belongs to its owner."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _wait(
        self, failure: _retry.FailedAttempt, backoff: _retry.Backoff, endpoint: str
    ) -> None:
        delay = _retry.retry_delay(backoff, failure, endpoint)
        if delay:
            await anyio.sleep(delay)

    async def _send(self, request: httpx.Request, endpoint: str) -> httpx.Response:
        backoff = _retry.Backoff(self._settings)
        while True:
            request.extensions["timeout"] = backoff.timeout().as_dict()
            try:
                response = await self._http.send(request, follow_redirects=False)
            except httpx.HTTPError as exc:
                failure = _retry.classify_exception(exc, endpoint)
            else:
                dl.log_response(response, backoff.attempt)
                found = _retry.classify_response(response, endpoint, time.time())
                if found is None:
                    return response
                failure = found
            await self._wait(failure, backoff, endpoint)

    async def _call(
        self,
        endpoint: str,
        build: Callable[[Secret], httpx.Request],
        parse: Callable[[httpx.Response], T],
        *,
        di_code: str | None = None,
    ) -> T:
        """Log in if needed; if the token is refused, log in again once and repeat once
        (a second refusal of ``di_code``'s file is that code's, not the login's: G2b)."""
        if self._token is None:
            await self.session.login()
        assert self._token is not None
        try:
            return parse(await self._send(build(self._token), endpoint))
        except wire.TokenRejected:
            logger.info("%s: the token was refused; logging in again", endpoint)
            self._token = None
        await self.session.login()
        assert self._token is not None
        try:
            return parse(await self._send(build(self._token), endpoint))
        except wire.TokenRejected as again:
            raise wire.refused_again(again, di_code=di_code) from None

    async def _perform(self, step: Step, observer: AsyncObserver | None) -> object:
        """One step of the download flow (see :mod:`apscores.service._flow`)."""
        if isinstance(step, Notify):
            return await _local.asettle(notify(observer, step))
        if isinstance(step, Generate):
            return await self.files.generate(step.di_code, format=step.format, kind=step.kind)
        if isinstance(step, Fetch):
            progress = getattr(observer, "received", None)
            return await self._fetch(
                step.generated, step.placement, check=step.check, progress=progress
            )
        await self.files.record(step.generated)
        return None

    async def _fetch(
        self,
        generated: GeneratedFile,
        placement: dl.Placement,
        *,
        check: bool,
        progress: Progress | None = None,
    ) -> Saved:
        backoff = _retry.Backoff(self._settings)
        while True:
            if dl.is_url_expired(generated.url, time.time()):
                raise dl.expired_error("its Expires time has passed")
            outcome = await self._fetch_once(generated, placement, check, progress, backoff)
            if isinstance(outcome, Saved):
                return outcome
            await self._wait(outcome, backoff, wire.DOWNLOAD)

    async def _fetch_once(
        self,
        generated: GeneratedFile,
        placement: dl.Placement,
        check: bool,
        progress: Progress | None,
        backoff: _retry.Backoff,
    ) -> Saved | _retry.FailedAttempt:
        request = wire.build_download_request(generated.url)
        for _hop in range(dl.MAX_REDIRECTS + 1):
            request.extensions["timeout"] = backoff.timeout().as_dict()
            try:
                response = await self._http.send(request, stream=True, follow_redirects=False)
            except httpx.HTTPError as exc:
                return _retry.classify_exception(exc, wire.DOWNLOAD)
            try:
                dl.log_response(response, 0)
                next_request = dl.download_redirect(response)
                if next_request is None:
                    return await self._save(response, placement, generated, check, progress)
            finally:
                await response.aclose()
            request = next_request
        return _retry.FailedAttempt(
            DownloadError("the download was redirected too many times"), False
        )

    async def _save(
        self,
        response: httpx.Response,
        placement: dl.Placement,
        generated: GeneratedFile,
        check: bool,
        progress: Progress | None,
    ) -> Saved | _retry.FailedAttempt:
        if not response.is_success:
            refusal = b""
            with contextlib.suppress(httpx.HTTPError):
                refusal = await response.aread()
            return dl.classify_download_status(response, body=refusal, now=time.time())
        body = dl.BodyCheck(dl.content_length(response), dl.storage_md5(response))
        with AtomicFile(placement.path) as out:
            try:
                async for chunk in response.aiter_bytes():
                    out.write(chunk)
                    body.feed(chunk)
                    if progress is not None:
                        progress(generated, body.size, body.expected)
            except httpx.HTTPError as exc:
                return dl.body_broken(exc, body.size)
            failure = body.finish(response.num_bytes_downloaded, generated)
            if failure is not None:
                return failure
            if not check:
                return Saved(_local.claim(out, placement), body)
            out.sync()  # the whole body on disk before it is checked
            found = await anyio.to_thread.run_sync(
                _local.file_check, out.temp_path, generated, body.verified
            )
            if isinstance(found, _retry.FailedAttempt):
                return found
            return Saved(_local.claim(out, placement), body, found.records, found.exams)


class AsyncSession(SessionBase):
    """Login state. ``token`` is never printed; calls log in lazily."""

    _client: AsyncClient

    async def login(self) -> None:
        """Exchange email and password for a token.

        Raises:
            AuthenticationError: with the service's words and College Board's checklist.
        """
        client = self._client
        client._token = None
        response = await client._send(wire.build_login_request(client._settings), wire.LOGIN)
        client._token = wire.parse_login_response(response)


class AsyncFiles:
    """The three file steps, one call each; :class:`AsyncInstitution` chains them safely."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def generate(
        self, di_code: str | int, *, format: Format = "txt", kind: DownloadKind = "new"
    ) -> GeneratedFile | None:
        """Ask for a file; ``None`` when the service has no score orders for it."""
        di, fmt, knd = check_di_code(di_code), check_format(format), check_kind(kind)
        settings = self._client._settings
        return await self._client._call(
            wire.GENERATE,
            lambda token: wire.build_generate_request(settings, token, di, fmt, knd),
            lambda response: wire.parse_generate_response(
                response, di_code=di, format=fmt, kind=knd
            ),
            di_code=di,
        )

    async def download(
        self, generated: GeneratedFile, dest: _local.Dest, *, check: bool = True
    ) -> Path:
        """Stream the file atomically into ``dest`` (a directory or a file path).

        In a directory an existing file is never replaced (a free name is chosen); an
        explicit file path is replaced. A missing folder is created. Returns the final path.

        Raises:
            DownloadURLExpired: the URL is dead; generate again.
            IncompleteFileError: ``check`` found the body is not a whole score file,
                or its MD5 is not the storage host's single-part ``ETag`` (nothing is
                kept; do not record it).
        """
        placement = _local.placement(dest, generated, replace_named=True)
        saved = await self._client._fetch(generated, placement, check=check)
        return saved.path

    async def record(self, generated: GeneratedFile) -> None:
        """Tell the service this download succeeded (moves the ``new`` watermark)."""
        settings = self._client._settings
        await self._client._call(
            wire.RECORD,
            lambda token: wire.build_record_request(settings, token, generated),
            wire.parse_record_response,
        )


class AsyncInstitution:
    """One DI code: generate, download, check, save and record as one safe unit."""

    def __init__(self, client: AsyncClient, di_code: str) -> None:
        self._client = client
        self.di_code = di_code

    def __repr__(self) -> str:
        return f"{type(self).__name__}(di_code={self.di_code!r})"

    async def download(
        self,
        *,
        kind: DownloadKind = "new",
        format: Format = "txt",
        dest: _local.Dest = ".",
        observer: AsyncObserver | None = None,
        check: bool = True,
    ) -> DownloadResult | None:
        """Fetch, check and record the next file; ``None`` when there is nothing to fetch.

        Args:
            kind: ``"new"`` (what this account has not recorded yet) or ``"full"``
                (everything since July 1).
            format: ``"txt"`` or ``"csv"``.
            dest: A directory (created if missing) or a file path; an existing file is
                never replaced (a taken name gets the download id).
            observer: Told each step as it happens (see ``DownloadObserver``).
            check: Check the file is a whole score file before recording it (default).
                One that is not is deleted and fetched again; ``False`` skips the check.
                The body's MD5 is checked against a single-part ``ETag`` either way.

        Raises:
            IncompleteFileError: the file kept failing the check (or the ``ETag``);
                nothing was recorded.
            RecordError: the file is saved but recording failed; it names the file and id.
        """
        fmt, knd = check_format(format), check_kind(kind)
        _local.prepare_destination(dest)
        flow = download_flow(
            self.di_code,
            fmt,
            knd,
            place=lambda generated: _local.placement(dest, generated, replace_named=False),
            check=check,
        )
        runner = FlowRunner(flow)
        while runner.step is not None:
            try:
                outcome = await self._client._perform(runner.step, observer)
            except Exception as error:  # the flow decides what to do; it re-raises
                runner.throw(error)
            else:
                runner.send(outcome)
        return runner.result
