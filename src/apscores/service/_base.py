"""What both clients hold that does no I/O: the resolved options and the token."""

from __future__ import annotations

import httpx

from apscores.service._local import install_redactor
from apscores.service._settings import Secret, resolve_settings

__all__ = ["BaseClient", "SessionBase"]


class BaseClient:
    """Options (checked at construction) and the current token."""

    def __init__(
        self,
        *,
        email: str | None,
        password: str | None,
        base_url: str | None,
        timeout: float | httpx.Timeout,
        deadline: float | None,
        max_retries: int,
        retry_base_delay: float,
        retry_max_delay: float,
    ) -> None:
        self._settings = resolve_settings(
            email=email,
            password=password,
            base_url=base_url,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
            retry_base_delay=retry_base_delay,
            retry_max_delay=retry_max_delay,
        )
        self._token: Secret | None = None
        install_redactor()

    @property
    def account(self) -> str:
        """The email of the College Board account this client logs in with (read-only).

        College Board tracks downloads per account, so the fetch job's ledger keys its
        entries by it (:func:`apscores.jobs.fetch` reads it from here).
        """
        return self._settings.email

    @property
    def base_url(self) -> str:
        """The API's base URL (``https://.../aposrd-api-prod``)."""
        return self._settings.base_url

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(email={self._settings.email!r}, "
            f"base_url={self._settings.base_url!r}, authenticated={self._token is not None})"
        )


class SessionBase:
    """Login state shared by ``Session`` and ``AsyncSession``."""

    def __init__(self, client: BaseClient) -> None:
        self._client = client

    @property
    def token(self) -> str | None:
        """The current token (``None`` before login). Treat it like a password."""
        token = self._client._token
        return None if token is None else token.reveal()

    @property
    def is_authenticated(self) -> bool:
        """Whether a token is held (it may still have expired on the service's side)."""
        return self._client._token is not None

    def logout(self) -> None:
        """Forget the token (the service has no logout call); the next call logs in again."""
        self._client._token = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} authenticated={self.is_authenticated}>"
