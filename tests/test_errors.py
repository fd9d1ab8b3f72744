"""Every public exception pickles with its message and attributes (process pools and
multiprocessing queues carry them), whatever its constructor."""

from __future__ import annotations

import errno
import pickle
from pathlib import Path

import pytest

from apscores import errors

SAMPLES: list[errors.APScoresError] = [
    errors.ConfigurationError("bad option"),
    errors.ParseError("bad date", line=3, field="date_of_birth", raw="1399", file="f.txt"),
    errors.TruncatedRecordError("cut", line=2, field="x", raw="", length=300),
    errors.MissingColumnsError(["AP Number"], ["Name"], file="f.csv"),
    errors.UnknownFormatError("binary data", file="f.bin"),
    errors.EmptyFileError(file="empty.txt"),
    errors.PolicyError("bad", line=2, field="min_score", raw="9"),
    errors.MapError("bad", line=1, field="tests", raw=""),
    errors.RosterError("bad", line=4, field="sis_id", raw=""),
    errors.UnmappedExamError({"98": {2027: 3}}),
    errors.APIError("down", endpoint="fileGeneration", detail="try later"),
    errors.APITimeoutError("slow", endpoint="webServiceAuth"),
    errors.status_error("oops", status_code=503, endpoint="download"),
    errors.DiCodeRefusedError("no", endpoint="fileGeneration", di_code="9999"),
    errors.LoginRefusedError("no", endpoint="webServiceAuth", detail="checklist"),
    errors.UnauthorizedError("no", status_code=401, endpoint="webServiceAuth"),
    errors.StorageError(errno.ENOSPC, "No space left on device", "/srv/x.txt"),
    errors.DownloadError("cut"),
    errors.DownloadURLExpired("expired"),
    errors.UnwritableRecordError("too wide"),
    errors.APIConnectionError("refused", endpoint="webServiceAuth"),
    errors.APIStatusError("teapot", status_code=418, endpoint="download"),
    errors.BadRequestError("bad", status_code=400, endpoint="fileGeneration"),
    errors.PermissionDeniedError("no", status_code=403, endpoint="fileGeneration"),
    errors.NotFoundError("gone", status_code=404, endpoint="fileGeneration"),
    errors.RateLimitError("slow down", status_code=429, endpoint="fileGeneration"),
    errors.InternalServerError("down", status_code=500, endpoint="fileGeneration"),
    errors.APIRefusalError("no", endpoint="webServiceDownloaded"),
    errors.AuthenticationError("no", endpoint="webServiceAuth"),
    errors.APScoresError("root"),
    errors.IncompleteFileError(
        "not whole", problem=errors.ParseError("x", line=1, field=None, raw="")
    ),
    errors.RecordError("refused", download_id="7", path=Path("/srv/x.txt")),
]


@pytest.mark.parametrize("error", SAMPLES, ids=lambda e: type(e).__name__)
def test_every_error_pickles_whole(error: errors.APScoresError) -> None:
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(again) is type(error)
    assert str(again) == str(error)
    assert again.args == error.args
    assert _shown(vars(again)) == _shown(vars(error))


def _shown(state: dict[str, object]) -> dict[str, object]:
    """Exceptions compare by identity: compare a nested one (``problem``) by its repr."""
    return {k: repr(v) if isinstance(v, BaseException) else v for k, v in state.items()}


def test_a_storage_error_is_an_os_error_that_names_its_path() -> None:
    error = errors.StorageError(errno.EACCES, "Permission denied", "/srv/x.txt")
    assert isinstance(error, OSError)
    assert isinstance(error, errors.APScoresError)
    assert str(error) == "/srv/x.txt: Permission denied"
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (again.errno, again.strerror, again.filename) == (
        errno.EACCES,
        "Permission denied",
        "/srv/x.txt",
    )


def test_every_public_exception_is_sampled() -> None:
    public = {
        name
        for name in errors.__all__
        if isinstance(getattr(errors, name), type)
        and issubclass(getattr(errors, name), errors.APScoresError)
    }
    assert public == {type(error).__name__ for error in SAMPLES}
