"""The web-service client: a sans-I/O core, and the two clients that only send.

Layout of this package (each module small enough to read in one sitting):

- ``_settings``: options, ``APSCORES_*`` fallbacks, secrets kept out of ``repr``;
- ``_guesses``: every assumption about what College Board does not document, in one place;
- ``_wire``: one pure request builder and one response parser per endpoint;
- ``_retry``: which failures are retried, and how long to wait;
- ``_download``: URL expiry, body integrity, safe file names;
- ``_flow``: ``Institution.download`` as a generator of steps, and the observers;
- ``_local``: the local side (destination folder, atomic claim of the final name, the
  file check), shared by both clients;
- ``_async_client``: the hand-written client; ``_sync_client`` is generated from it by
  ``scripts/unasync.py``.

Safety: the token goes only to the API host (the download GET carries no Catapult header,
and redirects are followed by hand with fresh bare requests); the download streams into a
hidden temporary file next to the target that is fsynced, size-checked, checked to be a
whole score file and only then given its final name, or deleted on any failure; the
download is recorded only once the file is in place. Downloaded files are created with
mode 0600 (they hold student data).
"""

from __future__ import annotations

from apscores._public import publish
from apscores.service._async_client import AsyncClient, AsyncFiles, AsyncInstitution, AsyncSession
from apscores.service._flow import (
    AsyncBaseDownloadObserver,
    AsyncDownloadObserver,
    BaseDownloadObserver,
    DownloadObserver,
)
from apscores.service._models import DownloadResult, GeneratedFile
from apscores.service._settings import (
    DEFAULT_BASE_URL,
    ENV_BASE_URL,
    DownloadKind,
    Format,
    check_di_code,
    check_format,
    check_kind,
    resolve_base_url,
)
from apscores.service._sync_client import Client, Files, Institution, Session

__all__ = [
    "DEFAULT_BASE_URL",
    "ENV_BASE_URL",
    "AsyncBaseDownloadObserver",
    "AsyncClient",
    "AsyncDownloadObserver",
    "AsyncFiles",
    "AsyncInstitution",
    "AsyncSession",
    "BaseDownloadObserver",
    "Client",
    "DownloadKind",
    "DownloadObserver",
    "DownloadResult",
    "Files",
    "Format",
    "GeneratedFile",
    "Institution",
    "Session",
    "check_di_code",
    "check_format",
    "check_kind",
    "resolve_base_url",
]

publish(__name__, globals())
