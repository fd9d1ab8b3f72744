"""Clients for College Board's AP Higher Education Score Reports web service.

:class:`Client` and :class:`AsyncClient` have the same surface (``async def`` where the
sync one does I/O). They only send, retry, sleep and stream; every request, every reading
of a response and every retry decision comes from :mod:`apscores._protocol`, whose
docstring lists the guesses made about the undocumented parts of the service.

    with Client() as client:  # APSCORES_EMAIL / APSCORES_PASSWORD
        result = client.institution("1234").download(kind="new", dest="scores/")

Safety: the token goes only to the API host (the download GET carries no Catapult header,
and redirects are followed by hand with fresh bare requests); the download streams into a
hidden temp file next to the target that is fsynced, size-checked and renamed into place,
or deleted on any failure; the download is recorded only once the file is in place.
Downloaded files are created with mode 0600 (they hold student data).

A download never replaces an existing file (file names repeat for two files generated in
the same minute, and the earlier one is already recorded): a taken name becomes
``<stem>-<download id><suffix>`` (then ``-2``, ``-3``...). The name is chosen before the
GET and claimed with :func:`os.link`, which fails if another process created that name
meanwhile (the next free name is then taken). Where hard links are not supported the
claim falls back to a check and :func:`os.replace`, which leaves a tiny window in which a
file created by another process at that instant could be replaced. Only
:meth:`Files.download` given an explicit file path replaces what is there: the caller
named that file.

``Institution.download(..., observer=...)`` reports each step boundary to a
:class:`DownloadObserver` (``apscores fetch`` writes its ledger that way).

Retries are instant with ``retry_base_delay=0``; a server's ``Retry-After`` is still
obeyed (up to ``retry_max_delay``), so tests that send one patch the instance's ``_sleep``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import anyio
import httpx
from typing_extensions import Self

from apscores import _protocol as proto
from apscores._atomic import AtomicFile, fsync_directory
from apscores._closing import Closing
from apscores._protocol import (
    BaseDownloadObserver,
    DownloadObserver,
    DownloadResult,
    Format,
    GeneratedFile,
    Kind,
)
from apscores.errors import DownloadError, ParseError
from apscores.filecheck import FileCheck, check_file

__all__ = [
    "AsyncClient",
    "AsyncFiles",
    "AsyncInstitution",
    "AsyncSession",
    "BaseDownloadObserver",
    "Client",
    "DownloadObserver",
    "DownloadResult",
    "Files",
    "GeneratedFile",
    "Institution",
    "Session",
]

logger = logging.getLogger("apscores")
T = TypeVar("T")
Dest = str | os.PathLike[str]


# --- pieces shared by both clients (local files and logging; no network) --------------


class _RedactSignedURLs(logging.Filter):
    """httpx logs every full URL at INFO; keep a presigned URL's signature out of that."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(a, httpx.URL) for a in args):
            record.args = tuple(
                proto.redact_url(a) if isinstance(a, httpx.URL) else a for a in args
            )
        return True


_REDACTOR = _RedactSignedURLs()


def _install_redactor() -> None:
    httpx_logger = logging.getLogger("httpx")
    if _REDACTOR not in httpx_logger.filters:
        httpx_logger.addFilter(_REDACTOR)


def _check_destination(dest: Dest) -> None:
    """Fail before generating a file if it could not be saved where asked."""
    path = Path(dest)
    if not (path.is_dir() or (not _names_directory(dest) and path.parent.is_dir())):
        raise DownloadError(f"the destination {path} is not a directory that exists")


def _names_directory(dest: Dest) -> bool:
    return os.fspath(dest).endswith(("/", os.sep))


def _taken(directory: Path) -> Callable[[str], bool]:
    return lambda name: os.path.lexists(directory / name)


def _placement(dest: Dest, generated: GeneratedFile, *, replace_named: bool) -> proto.Placement:
    """A directory gets the service's (sanitised) file name; anything else is the file.

    Either way a taken name is swapped for a free one, except that ``replace_named`` lets
    an explicitly named file be replaced (:meth:`Files.download` only).
    """
    _check_destination(dest)
    path = Path(dest)
    if path.is_dir():
        directory, wanted, replace = path, proto.safe_file_name(generated.file_name), False
    else:
        directory, wanted, replace = path.parent, path.name, replace_named
    return proto.place_file(
        directory, wanted, generated.download_id, taken=_taken(directory), replace=replace
    )


MAX_CLAIMS = 100


def _commit(out: AtomicFile, placement: proto.Placement) -> Path:
    """Give the finished temp file its final name, never replacing a file (module docstring)."""
    if placement.replace:
        out.commit()
        return placement.path
    out.file.flush()
    os.fsync(out.file.fileno())
    out.file.close()
    path = placement.path
    for _claim in range(MAX_CLAIMS):
        try:
            os.link(out.temp_path, path)
        except FileExistsError:
            pass
        except OSError:  # no hard links on this file system: check, then rename
            if not os.path.lexists(path):
                os.replace(out.temp_path, path)
                break
        else:
            out.temp_path.unlink()
            break
        logger.info("%s appeared while downloading; choosing another name", path.name)
        directory = placement.directory
        path = directory / proto.free_file_name(
            placement.wanted, placement.download_id, _taken(directory)
        )
    else:
        raise DownloadError(f"could not claim a free file name for {placement.wanted!r}")
    out.committed = True
    fsync_directory(path.parent)
    return path


def _flow(
    di_code: str,
    kind: str,
    format: str,
    dest: Dest,
    observer: DownloadObserver | None,
    check: bool,
) -> proto.DownloadFlow:
    """``Institution.download``'s steps, options checked before anything is generated."""
    fmt, knd = proto.check_format(format), proto.check_kind(kind)
    _check_destination(dest)
    return proto.download_flow(
        di_code,
        fmt,
        knd,
        place=lambda generated: _placement(dest, generated, replace_named=False),
        observer=observer,
        check=check,
    )


def _file_check(path: Path, generated: GeneratedFile) -> FileCheck | proto.Failure:
    """The saved body checked as a whole score file (see :mod:`apscores.filecheck`)."""
    try:
        return check_file(path, generated.format, name=generated.file_name)
    except ParseError as problem:
        return proto.incomplete_file(problem, generated)


class _BaseClient:
    """Options and the token; no I/O."""

    def __init__(
        self,
        *,
        email: str | None,
        password: str | None,
        base_url: str | None,
        timeout: float,
        max_retries: int,
        retry_base_delay: float,
        retry_max_delay: float,
    ) -> None:
        self._settings = proto.resolve_settings(
            email=email,
            password=password,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry_base_delay=retry_base_delay,
            retry_max_delay=retry_max_delay,
        )
        self._token: proto.Secret | None = None
        _install_redactor()

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(email={self._settings.email!r}, "
            f"base_url={self._settings.base_url!r}, authenticated={self._token is not None})"
        )


class _SessionBase:
    def __init__(self, client: _BaseClient) -> None:
        self._client = client

    @property
    def token(self) -> str | None:
        """The current token (``None`` before login). Treat it like a password."""
        token = self._client._token
        return None if token is None else token.reveal()

    @property
    def is_authenticated(self) -> bool:
        return self._client._token is not None

    def logout(self) -> None:
        """Forget the token (the service has no logout call); the next call logs in again."""
        self._client._token = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} authenticated={self.is_authenticated}>"


# --- sync -----------------------------------------------------------------------------


class Client(_BaseClient, Closing):
    """Synchronous client. Options are keyword-only; see the module docstring."""

    def __init__(
        self,
        *,
        email: str | None = None,
        password: str | None = None,
        base_url: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 3,
        retry_base_delay: float = 0.5,
        retry_max_delay: float = 30.0,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            email=email,
            password=password,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry_base_delay=retry_base_delay,
            retry_max_delay=retry_max_delay,
        )
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client(timeout=timeout)
        self.session = Session(self)
        self.files = Files(self)

    def institution(self, di_code: str | int) -> Institution:
        return Institution(self, proto.check_di_code(di_code))

    def close(self) -> None:
        """Close the HTTP client this client made; an injected one belongs to its owner."""
        if self._owns_http:
            self._http.close()

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _send(self, request: httpx.Request, endpoint: str) -> httpx.Response:
        proto.apply_timeout(request, self._settings.timeout)
        backoff = proto.Backoff(self._settings)
        while True:
            try:
                response = self._http.send(request, follow_redirects=False)
            except httpx.HTTPError as exc:
                failure = proto.classify_exception(exc, endpoint)
            else:
                proto.log_response(response, backoff.attempt)
                found = proto.classify_response(response, endpoint, time.time())
                if found is None:
                    return response
                failure = found
            self._sleep(proto.retry_delay(backoff, failure, endpoint))

    def _call(
        self,
        endpoint: str,
        build: Callable[[proto.Secret], httpx.Request],
        parse: Callable[[httpx.Response], T],
    ) -> T:
        """Log in if needed; if the token is refused, log in again once and repeat once."""
        if self._token is None:
            self.session.login()
        assert self._token is not None
        try:
            return parse(self._send(build(self._token), endpoint))
        except proto.TokenRejectedError:
            logger.info("%s: the token was refused; logging in again", endpoint)
            self._token = None
        self.session.login()
        assert self._token is not None
        return parse(self._send(build(self._token), endpoint))

    def _perform(self, step: proto.Step) -> object:
        """One step of :func:`apscores._protocol.download_flow`."""
        if isinstance(step, proto.Generate):
            return self.files.generate(step.di_code, format=step.format, kind=step.kind)
        if isinstance(step, proto.Fetch):
            return self._fetch(step.generated, step.placement, check=step.check)
        self.files.record(step.generated)
        return None

    def _fetch(
        self, generated: GeneratedFile, placement: proto.Placement, *, check: bool
    ) -> proto.Saved:
        backoff = proto.Backoff(self._settings)
        while True:
            if proto.is_url_expired(generated.url, time.time()):
                raise proto.expired_error("its Expires time has passed")
            outcome = self._fetch_once(generated, placement, check)
            if isinstance(outcome, proto.Saved):
                return outcome
            self._sleep(proto.retry_delay(backoff, outcome, proto.DOWNLOAD))

    def _fetch_once(
        self, generated: GeneratedFile, placement: proto.Placement, check: bool
    ) -> proto.Saved | proto.Failure:
        request = proto.build_download_request(generated.url)
        for _hop in range(proto.MAX_REDIRECTS + 1):
            proto.apply_timeout(request, self._settings.timeout)
            try:
                response = self._http.send(request, stream=True, follow_redirects=False)
            except httpx.HTTPError as exc:
                return proto.classify_exception(exc, proto.DOWNLOAD)
            try:
                proto.log_response(response, 0)
                next_request = proto.download_redirect(response)
                if next_request is None:
                    return self._save(response, placement, generated, check)
            finally:
                response.close()
            request = next_request
        return proto.Failure(DownloadError("the download was redirected too many times"), False)

    def _save(
        self,
        response: httpx.Response,
        placement: proto.Placement,
        generated: GeneratedFile,
        check: bool,
    ) -> proto.Saved | proto.Failure:
        if not response.is_success:
            refusal = b""
            with contextlib.suppress(httpx.HTTPError):
                refusal = response.read()
            return proto.classify_download_status(response, body=refusal, now=time.time())
        body = proto.BodyCheck(proto.content_length(response))
        with AtomicFile(placement.path) as out:
            try:
                for chunk in response.iter_bytes():
                    out.write(chunk)
                    body.feed(chunk)
            except httpx.HTTPError as exc:
                return proto.body_broken(exc, body.size)
            failure = body.finish(response.num_bytes_downloaded)
            if failure is not None:
                return failure
            found: FileCheck | None = None
            if check:
                out.file.flush()
                outcome = _file_check(out.temp_path, generated)
                if isinstance(outcome, proto.Failure):
                    return outcome
                found = outcome
            return proto.Saved(_commit(out, placement), body, found)


class Session(_SessionBase):
    """Login state. ``token`` is never printed; calls log in lazily."""

    _client: Client

    def login(self) -> None:
        """Exchange email and password for a token (raises AuthenticationError with a checklist)."""
        client = self._client
        client._token = None
        response = client._send(proto.build_login_request(client._settings), proto.LOGIN)
        client._token = proto.parse_login_response(response)


class Files:
    """The three file steps, one call each; :class:`Institution` chains them safely."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def generate(
        self, di_code: str | int, *, format: Format = "txt", kind: Kind = "new"
    ) -> GeneratedFile | None:
        """Ask for a file; ``None`` when the service has no score orders for it."""
        di, fmt, knd = (
            proto.check_di_code(di_code),
            proto.check_format(format),
            proto.check_kind(kind),
        )
        settings = self._client._settings
        return self._client._call(
            proto.GENERATE,
            lambda token: proto.build_generate_request(settings, token, di, fmt, knd),
            lambda response: proto.parse_generate_response(
                response, di_code=di, format=fmt, kind=knd
            ),
        )

    def download(self, generated: GeneratedFile, dest: Dest, *, check: bool = True) -> Path:
        """Stream the file atomically into ``dest`` (a directory or a file path).

        In a directory an existing file is never replaced (a free name is chosen, see the
        module docstring); an explicit file path is replaced. Returns the final path.
        Raises :class:`DownloadURLExpired` when the URL is dead (generate again), and
        :class:`IncompleteFileError` when ``check`` finds the body is not a whole score
        file (nothing is kept; do not record it).
        """
        placement = _placement(dest, generated, replace_named=True)
        saved = self._client._fetch(generated, placement, check=check)
        return saved.path

    def record(self, generated: GeneratedFile) -> None:
        """Tell the service this download succeeded (moves the ``new`` watermark)."""
        settings = self._client._settings
        self._client._call(
            proto.RECORD,
            lambda token: proto.build_record_request(settings, token, generated),
            proto.parse_record_response,
        )


class Institution:
    """One DI code: generate, download, save and record as one safe unit."""

    def __init__(self, client: Client, di_code: str) -> None:
        self._client = client
        self.di_code = di_code

    def __repr__(self) -> str:
        return f"Institution(di_code={self.di_code!r})"

    def download(
        self,
        *,
        kind: Kind = "new",
        format: Format = "txt",
        dest: Dest = ".",
        observer: DownloadObserver | None = None,
        check: bool = True,
    ) -> DownloadResult | None:
        """Fetch and record the next file; ``None`` when there is nothing to fetch.

        An existing file is never replaced (see the module docstring). Before it is
        recorded the file is checked to be a whole score file (``check=False`` skips
        that; see :mod:`apscores.filecheck`); one that is not is fetched again, then
        :class:`IncompleteFileError` is raised and nothing is recorded. If recording fails
        the file is kept and :class:`RecordError` names it and its id. ``observer`` is told
        each step as it happens (see :class:`DownloadObserver`).
        """
        runner = proto.FlowRunner(_flow(self.di_code, kind, format, dest, observer, check))
        while runner.step is not None:
            try:
                outcome = self._client._perform(runner.step)
            except Exception as error:  # the flow decides what to do; it re-raises
                runner.throw(error)
            else:
                runner.send(outcome)
        return runner.result


# --- async ----------------------------------------------------------------------------


class AsyncClient(_BaseClient):
    """Asynchronous client with the same surface as :class:`Client`."""

    def __init__(
        self,
        *,
        email: str | None = None,
        password: str | None = None,
        base_url: str | None = None,
        timeout: float = 120.0,
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
            max_retries=max_retries,
            retry_base_delay=retry_base_delay,
            retry_max_delay=retry_max_delay,
        )
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient(timeout=timeout)
        self.session = AsyncSession(self)
        self.files = AsyncFiles(self)

    def institution(self, di_code: str | int) -> AsyncInstitution:
        return AsyncInstitution(self, proto.check_di_code(di_code))

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

    async def _sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)

    async def _send(self, request: httpx.Request, endpoint: str) -> httpx.Response:
        proto.apply_timeout(request, self._settings.timeout)
        backoff = proto.Backoff(self._settings)
        while True:
            try:
                response = await self._http.send(request, follow_redirects=False)
            except httpx.HTTPError as exc:
                failure = proto.classify_exception(exc, endpoint)
            else:
                proto.log_response(response, backoff.attempt)
                found = proto.classify_response(response, endpoint, time.time())
                if found is None:
                    return response
                failure = found
            await self._sleep(proto.retry_delay(backoff, failure, endpoint))

    async def _call(
        self,
        endpoint: str,
        build: Callable[[proto.Secret], httpx.Request],
        parse: Callable[[httpx.Response], T],
    ) -> T:
        """Log in if needed; if the token is refused, log in again once and repeat once."""
        if self._token is None:
            await self.session.login()
        assert self._token is not None
        try:
            return parse(await self._send(build(self._token), endpoint))
        except proto.TokenRejectedError:
            logger.info("%s: the token was refused; logging in again", endpoint)
            self._token = None
        await self.session.login()
        assert self._token is not None
        return parse(await self._send(build(self._token), endpoint))

    async def _perform(self, step: proto.Step) -> object:
        """One step of :func:`apscores._protocol.download_flow`."""
        if isinstance(step, proto.Generate):
            return await self.files.generate(step.di_code, format=step.format, kind=step.kind)
        if isinstance(step, proto.Fetch):
            return await self._fetch(step.generated, step.placement, check=step.check)
        await self.files.record(step.generated)
        return None

    async def _fetch(
        self, generated: GeneratedFile, placement: proto.Placement, *, check: bool
    ) -> proto.Saved:
        backoff = proto.Backoff(self._settings)
        while True:
            if proto.is_url_expired(generated.url, time.time()):
                raise proto.expired_error("its Expires time has passed")
            outcome = await self._fetch_once(generated, placement, check)
            if isinstance(outcome, proto.Saved):
                return outcome
            await self._sleep(proto.retry_delay(backoff, outcome, proto.DOWNLOAD))

    async def _fetch_once(
        self, generated: GeneratedFile, placement: proto.Placement, check: bool
    ) -> proto.Saved | proto.Failure:
        request = proto.build_download_request(generated.url)
        for _hop in range(proto.MAX_REDIRECTS + 1):
            proto.apply_timeout(request, self._settings.timeout)
            try:
                response = await self._http.send(request, stream=True, follow_redirects=False)
            except httpx.HTTPError as exc:
                return proto.classify_exception(exc, proto.DOWNLOAD)
            try:
                proto.log_response(response, 0)
                next_request = proto.download_redirect(response)
                if next_request is None:
                    return await self._save(response, placement, generated, check)
            finally:
                await response.aclose()
            request = next_request
        return proto.Failure(DownloadError("the download was redirected too many times"), False)

    async def _save(
        self,
        response: httpx.Response,
        placement: proto.Placement,
        generated: GeneratedFile,
        check: bool,
    ) -> proto.Saved | proto.Failure:
        if not response.is_success:
            refusal = b""
            with contextlib.suppress(httpx.HTTPError):
                refusal = await response.aread()
            return proto.classify_download_status(response, body=refusal, now=time.time())
        body = proto.BodyCheck(proto.content_length(response))
        with AtomicFile(placement.path) as out:
            try:
                async for chunk in response.aiter_bytes():
                    out.write(chunk)
                    body.feed(chunk)
            except httpx.HTTPError as exc:
                return proto.body_broken(exc, body.size)
            failure = body.finish(response.num_bytes_downloaded)
            if failure is not None:
                return failure
            found: FileCheck | None = None
            if check:
                out.file.flush()
                outcome = await anyio.to_thread.run_sync(_file_check, out.temp_path, generated)
                if isinstance(outcome, proto.Failure):
                    return outcome
                found = outcome
            return proto.Saved(_commit(out, placement), body, found)


class AsyncSession(_SessionBase):
    """Login state. ``token`` is never printed; calls log in lazily."""

    _client: AsyncClient

    async def login(self) -> None:
        """Exchange email and password for a token (raises AuthenticationError with a checklist)."""
        client = self._client
        client._token = None
        response = await client._send(proto.build_login_request(client._settings), proto.LOGIN)
        client._token = proto.parse_login_response(response)


class AsyncFiles:
    """The three file steps, one call each; :class:`AsyncInstitution` chains them safely."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def generate(
        self, di_code: str | int, *, format: Format = "txt", kind: Kind = "new"
    ) -> GeneratedFile | None:
        """Ask for a file; ``None`` when the service has no score orders for it."""
        di, fmt, knd = (
            proto.check_di_code(di_code),
            proto.check_format(format),
            proto.check_kind(kind),
        )
        settings = self._client._settings
        return await self._client._call(
            proto.GENERATE,
            lambda token: proto.build_generate_request(settings, token, di, fmt, knd),
            lambda response: proto.parse_generate_response(
                response, di_code=di, format=fmt, kind=knd
            ),
        )

    async def download(self, generated: GeneratedFile, dest: Dest, *, check: bool = True) -> Path:
        """Stream the file atomically into ``dest`` (a directory or a file path).

        In a directory an existing file is never replaced (a free name is chosen, see the
        module docstring); an explicit file path is replaced. Returns the final path.
        Raises :class:`DownloadURLExpired` when the URL is dead (generate again), and
        :class:`IncompleteFileError` when ``check`` finds the body is not a whole score
        file (nothing is kept; do not record it).
        """
        placement = _placement(dest, generated, replace_named=True)
        saved = await self._client._fetch(generated, placement, check=check)
        return saved.path

    async def record(self, generated: GeneratedFile) -> None:
        """Tell the service this download succeeded (moves the ``new`` watermark)."""
        settings = self._client._settings
        await self._client._call(
            proto.RECORD,
            lambda token: proto.build_record_request(settings, token, generated),
            proto.parse_record_response,
        )


class AsyncInstitution:
    """One DI code: generate, download, save and record as one safe unit."""

    def __init__(self, client: AsyncClient, di_code: str) -> None:
        self._client = client
        self.di_code = di_code

    def __repr__(self) -> str:
        return f"AsyncInstitution(di_code={self.di_code!r})"

    async def download(
        self,
        *,
        kind: Kind = "new",
        format: Format = "txt",
        dest: Dest = ".",
        observer: DownloadObserver | None = None,
        check: bool = True,
    ) -> DownloadResult | None:
        """Fetch and record the next file; ``None`` when there is nothing to fetch.

        An existing file is never replaced (see the module docstring). Before it is
        recorded the file is checked to be a whole score file (``check=False`` skips
        that; see :mod:`apscores.filecheck`); one that is not is fetched again, then
        :class:`IncompleteFileError` is raised and nothing is recorded. If recording fails
        the file is kept and :class:`RecordError` names it and its id. ``observer`` is told
        each step as it happens (see :class:`DownloadObserver`).
        """
        runner = proto.FlowRunner(_flow(self.di_code, kind, format, dest, observer, check))
        while runner.step is not None:
            try:
                outcome = await self._client._perform(runner.step)
            except Exception as error:  # the flow decides what to do; it re-raises
                runner.throw(error)
            else:
                runner.send(outcome)
        return runner.result
