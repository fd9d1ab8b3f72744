"""What ``apscores sandbox serve`` sets up (:class:`ServeConfig`), its options, and what it
prints when it starts (:func:`banner`).

Shared by ``apscores sandbox serve`` and ``python -m apscores.sandbox``; the server itself
is :mod:`apscores.sandbox._server`.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import attrs

from apscores.catalog import is_di_code
from apscores.sandbox._fault_spec import FaultSpec, load_fault_specs
from apscores.sandbox._storage import ETAG_KINDS
from apscores.sandbox._values import DEFAULT_DI_CODE, DEFAULT_EMAIL, DEFAULT_PASSWORD

if TYPE_CHECKING:
    from apscores.sandbox._server import SandboxServer

__all__ = [
    "ServeConfig",
    "add_serve_arguments",
    "banner",
    "config_from_args",
    "parse_size",
    "say",
]


def _port(option: str) -> Callable[[object, attrs.Attribute[int], int], None]:
    def check(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
            raise ValueError(
                f"{option} must be a port from 0 to 65535 (0: any free port), got {value!r}"
            )

    return check


@attrs.frozen
class ServeConfig:
    """What ``apscores sandbox serve`` sets up; port 0 picks a free port.

    A port outside 0-65535 is a :class:`ValueError` naming the option (``--port``).
    """

    port: int = attrs.field(default=8080, validator=_port("--port"))
    storage_port: int = attrs.field(default=8081, validator=_port("--storage-port"))
    email: str = DEFAULT_EMAIL
    password: str = attrs.field(default=DEFAULT_PASSWORD, repr=False)
    di_codes: tuple[str, ...] = (DEFAULT_DI_CODE,)
    reports: int = 25
    seed: int = 0
    url_ttl: float = 300.0
    file_size: int | None = None  # serve every file as ~this many bytes (bulk_renderer)
    strict: bool = False  # refuse what the default only records (SandboxService(strict=True))
    etag: str = "md5"  # the storage host's ETag: md5 (one part), multipart or none
    faults: tuple[FaultSpec, ...] = ()  # armed when the server starts


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``apscores sandbox serve`` (shared with ``python -m apscores.sandbox``)."""
    parser.add_argument(
        "--port", type=int, default=8080, help="API port; 0: any free port (default: %(default)s)"
    )
    parser.add_argument(
        "--storage-port",
        type=int,
        default=8081,
        help="download host port; 0: any free port (default: %(default)s)",
    )
    parser.add_argument(
        "--email", default=DEFAULT_EMAIL, help="the account's email (default: %(default)s)"
    )
    parser.add_argument(
        "--password",
        default=DEFAULT_PASSWORD,
        help="the account's password, sandbox only (default: %(default)s)",
    )
    parser.add_argument(
        "--di",
        action="append",
        dest="di_codes",
        metavar="CODE",
        help=f"a 4-digit DI code the account may use; repeatable (default: {DEFAULT_DI_CODE})",
    )
    parser.add_argument(
        "--reports",
        type=int,
        default=25,
        metavar="N",
        help="synthetic score orders queued per DI code (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed for the synthetic reports (default: %(default)s)"
    )
    parser.add_argument(
        "--url-ttl",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="download URL lifetime (default: %(default)s)",
    )
    parser.add_argument(
        "--file-size",
        type=parse_size,
        default=None,
        metavar="BYTES",
        help="serve every file as about this many bytes of valid records, streamed "
        "(e.g. 20M, 1G: to test big downloads; default: the records' own size)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse what a careful client should not send (a token on the download host, "
        "JSON calls without Accept/Content-Type application/json) instead of recording it",
    )
    parser.add_argument(
        "--etag",
        choices=ETAG_KINDS,
        default="md5",
        help="the download host's ETag: the body's MD5 (an object uploaded in one part), "
        'multipart ("<hex>-N") or none (default: %(default)s)',
    )
    parser.add_argument(
        "--fault",
        action="append",
        dest="fault_texts",
        metavar="KIND[=VALUE]",
        help="arm a fault, e.g. fail=generate,status=504,times=2 or expire_url or "
        "expire_token_after=1 (repeatable; see the sandbox docs)",
    )
    parser.add_argument(
        "--faults",
        type=Path,
        dest="faults_file",
        metavar="FILE.json",
        help="arm the faults in a JSON file (one spec, a list of them, or a listing "
        "saved from GET /_sandbox/faults)",
    )


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def parse_size(text: str) -> int:
    """``"1G"`` -> 1073741824; plain digits are bytes; K, M and G are powers of 1024."""
    cleaned = text.strip().upper().removesuffix("B").replace("_", "")
    unit = cleaned[-1:] if cleaned[-1:] in ("K", "M", "G") else ""
    number = cleaned[: len(cleaned) - len(unit)]
    if not number.isdigit() or int(number) < 1:
        raise argparse.ArgumentTypeError(f"not a size in bytes: {text!r} (try 20M or 1G)")
    return int(number) * _UNITS[unit]


def config_from_args(args: argparse.Namespace) -> ServeConfig:
    """Turn parsed ``serve`` options into a :class:`ServeConfig` (validating DI codes)."""
    codes = tuple(args.di_codes or (DEFAULT_DI_CODE,))
    for code in codes:
        if not is_di_code(code):
            raise ValueError(f"a DI code is 4 digits, got {code!r}")
    if args.reports < 0:
        raise ValueError("--reports must be >= 0")
    if not (math.isfinite(args.url_ttl) and args.url_ttl >= 0):
        raise ValueError(f"--url-ttl must be a number of seconds >= 0, got {args.url_ttl}")
    faults = [FaultSpec.parse(text) for text in getattr(args, "fault_texts", None) or ()]
    if getattr(args, "faults_file", None) is not None:
        faults += load_fault_specs(args.faults_file)
    return ServeConfig(
        port=args.port,
        storage_port=args.storage_port,
        email=args.email,
        password=args.password,
        di_codes=codes,
        reports=args.reports,
        seed=args.seed,
        url_ttl=args.url_ttl,
        file_size=getattr(args, "file_size", None),
        strict=getattr(args, "strict", False),
        etag=getattr(args, "etag", "md5"),
        faults=tuple(faults),
    )


def banner(server: SandboxServer, config: ServeConfig) -> str:
    """What ``serve`` prints: where to connect and with which (sandbox-only) credentials."""
    control = server.base_url.rsplit("/", 1)[0] + "/_sandbox"
    queued = ", ".join(
        f"{code} ({len(server.service.di_codes.get(code, []))} score orders queued)"
        for code in config.di_codes
    )
    return (
        "apscores sandbox is running (loopback only; stop with Ctrl-C or SIGTERM)\n"
        f"  base URL:     {server.base_url}\n"
        f"  storage host: {server.storage_url}\n"
        f"  email:        {config.email}\n"
        f"  password:     {config.password}\n"
        f"  DI codes:     {queued}\n"
        + (
            f"  file size:    about {config.file_size:,} bytes, streamed\n"
            if config.file_size
            else ""
        )
        + (
            "  mode:         strict (refuses what a careful client should not send)\n"
            if server.service.strict
            else "  mode:         tolerant (records what strict mode would refuse)\n"
        )
        + "".join(f"  fault:        {spec.to_text()}\n" for spec in config.faults)
        + f"  state:        GET {control}/state (faults: GET/POST {control}/faults)\n"
        + f"  try: APSCORES_BASE_URL={server.base_url} APSCORES_EMAIL={config.email} "
        "APSCORES_PASSWORD=... apscores ...\n"
    )


def say(out: TextIO, text: str) -> None:
    """Write to ``out``; a reader that left (``| head -3``) is no reason to stop serving."""
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        if out is sys.stdout:  # what is still buffered goes nowhere, not to an exit warning
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
