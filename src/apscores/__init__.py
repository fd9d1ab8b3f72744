"""apscores: get and read the AP score reports College Board sends to colleges."""

from apscores import catalog
from apscores.catalog import ExamStatus, award_name, exam_name
from apscores.converter import converter, from_dict, from_json, to_dict, to_json
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
from apscores.models import (
    Address,
    Award,
    ExamScore,
    Organization,
    PreviousSchool,
    ScoreReport,
    Student,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "APScoresError",
    "Address",
    "AuthenticationError",
    "Award",
    "ConfigurationError",
    "DownloadError",
    "DownloadURLExpired",
    "ExamScore",
    "ExamStatus",
    "MissingColumnsError",
    "Organization",
    "ParseError",
    "PreviousSchool",
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
    "to_dict",
    "to_json",
]
