"""apscores: get and read the AP score reports College Board sends to colleges."""

from apscores import catalog
from apscores.catalog import ExamStatus, award_name, exam_name
from apscores.client import (
    AsyncClient,
    BaseDownloadObserver,
    Client,
    DownloadObserver,
    DownloadResult,
    GeneratedFile,
)
from apscores.converter import converter, from_dict, from_json, to_dict, to_json
from apscores.credit import CreditPolicy, CreditResult, CreditRule, Outcome, PolicyError
from apscores.csvfile import read_csv, write_csv
from apscores.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    APScoresError,
    AuthenticationError,
    ConfigurationError,
    DownloadError,
    DownloadURLExpired,
    MissingColumnsError,
    ParseError,
    RecordError,
)
from apscores.merge import Change, ChangeKind, MergeResult, merge
from apscores.models import (
    Address,
    Award,
    ExamScore,
    Organization,
    PreviousSchool,
    ScoreReport,
    Student,
)
from apscores.reading import Reader, read
from apscores.tables import (
    to_arrow,
    to_pandas,
    to_polars,
    to_rows,
    txt_to_arrow,
    txt_to_pandas,
    txt_to_polars,
)
from apscores.txt import read_txt, write_txt

__version__ = "0.1.0.dev0"

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "APScoresError",
    "Address",
    "AsyncClient",
    "AuthenticationError",
    "Award",
    "BaseDownloadObserver",
    "Change",
    "ChangeKind",
    "Client",
    "ConfigurationError",
    "CreditPolicy",
    "CreditResult",
    "CreditRule",
    "DownloadError",
    "DownloadObserver",
    "DownloadResult",
    "DownloadURLExpired",
    "ExamScore",
    "ExamStatus",
    "GeneratedFile",
    "MergeResult",
    "MissingColumnsError",
    "Organization",
    "Outcome",
    "ParseError",
    "PolicyError",
    "PreviousSchool",
    "Reader",
    "RecordError",
    "ScoreReport",
    "Student",
    "__version__",
    "award_name",
    "catalog",
    "converter",
    "exam_name",
    "from_dict",
    "from_json",
    "merge",
    "read",
    "read_csv",
    "read_txt",
    "to_arrow",
    "to_dict",
    "to_json",
    "to_pandas",
    "to_polars",
    "to_rows",
    "txt_to_arrow",
    "txt_to_pandas",
    "txt_to_polars",
    "write_csv",
    "write_txt",
]
