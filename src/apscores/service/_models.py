"""What the client hands back: a generated file, and the result of a safe download."""

from __future__ import annotations

from pathlib import Path

import attrs

from apscores.service._settings import DownloadKind, Format

__all__ = ["DownloadResult", "GeneratedFile"]


@attrs.frozen
class GeneratedFile:
    """A file the service generated, as ``fileGeneration`` described it.

    Attributes:
        url: Where to download it: a short-lived presigned URL, hidden from ``repr``
            because its query string is a signature.
        file_name: The service's name for the file (a safe fallback when it gave none).
        download_id: What ``webServiceDownloaded`` needs, exactly as the service sent it
            (a JSON number stays an ``int``).
        format: ``"txt"`` or ``"csv"``.
        kind: ``"new"`` or ``"full"``.
    """

    url: str = attrs.field(repr=False)
    file_name: str
    download_id: str | int
    format: Format
    kind: DownloadKind


@attrs.frozen
class DownloadResult:
    """A file saved (and normally recorded) by ``Institution.download``.

    Attributes:
        path: Where the file is, under its final name.
        file_name: The service's name for the file.
        download_id: The download id that was recorded.
        format: ``"txt"`` or ``"csv"``.
        kind: ``"new"`` or ``"full"``.
        size: Bytes saved.
        sha256: Hex SHA-256 of the file, computed while it streamed.
        recorded: Whether the service was told (``False`` only for an empty file
            downloaded with ``check=False``).
        records: Students (records) in the file, counted by the file check; ``None``
            with ``check=False``.
        exams: Exams in the file, counted by the file check; ``None`` with ``check=False``.
    """

    path: Path
    file_name: str
    download_id: str | int
    format: Format
    kind: DownloadKind
    size: int
    sha256: str
    recorded: bool = True
    records: int | None = None
    exams: int | None = None
