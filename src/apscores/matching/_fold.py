"""Names folded the way College Board's ASCII files write them, for comparing.

A TXT score file holds names in ASCII, cut at the field width (last name 15 characters,
first name 12); a student system holds them as typed, accents and all. Folding makes both
sides comparable: Unicode compatibility decomposition drops the marks (é -> e), then a
small table spells out the letters that have no decomposition (ß -> ss, Ø -> O, Æ -> AE,
Ł -> L...) and a few non-Latin alphabets (Greek, Cyrillic) letter by letter; the result is
upper case, with hyphens and other separators as single spaces and apostrophes and dots
removed (``O'Brien`` -> ``OBRIEN``, ``Smith-Jones`` -> ``SMITH JONES``).

>>> fold("Łukasz Ørsted-Straße")
'LUKASZ ORSTED STRASSE'
>>> fold("O'Brien-De la Cruz Jr.")
'OBRIEN DE LA CRUZ JR'
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["FIRST_WIDTH", "LAST_WIDTH", "SUFFIXES", "fold"]

#: Field widths of the TXT layout: a name this long may have been cut.
LAST_WIDTH = 15
FIRST_WIDTH = 12

#: Generational suffixes, ignored when surnames are compared by token.
SUFFIXES = frozenset({"JR", "SR", "II", "III", "IV"})

# Letters NFKD leaves alone, as ASCII (lower case: applied after casefold()).
_LATIN = {
    "ß": "ss",
    "ø": "o",
    "æ": "ae",
    "œ": "oe",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "ħ": "h",
    "ı": "i",
    "ŀ": "l",
    "ŋ": "n",
    "ſ": "s",
    "ŧ": "t",
    "ƒ": "f",
    "ə": "e",
    "ɐ": "a",
    "ʼ": "",
    "’": "",
    "‘": "",
    "`": "",
    "´": "",
}
_GREEK = {
    "α": "a",
    "β": "b",
    "γ": "g",
    "δ": "d",
    "ε": "e",
    "ζ": "z",
    "η": "i",
    "θ": "th",
    "ι": "i",
    "κ": "k",
    "λ": "l",
    "μ": "m",
    "ν": "n",
    "ξ": "x",
    "ο": "o",
    "π": "p",
    "ρ": "r",
    "σ": "s",
    "ς": "s",
    "τ": "t",
    "υ": "y",
    "φ": "f",
    "χ": "ch",
    "ψ": "ps",
    "ω": "o",
}
_CYRILLIC = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    "і": "i",
    "ї": "yi",
    "є": "ye",
    "ґ": "g",
}
_TABLE = str.maketrans({**_LATIN, **_GREEK, **_CYRILLIC})
_DROP = re.compile(r"['.]")
_SEPARATORS = re.compile(r"[^A-Z0-9]+")


def fold(name: str) -> str:
    """``name`` in upper-case ASCII words, single-spaced (empty for an empty name)."""
    if not name.isascii():
        decomposed = unicodedata.normalize("NFKD", name)
        name = "".join(c for c in decomposed if not unicodedata.combining(c))
        name = name.casefold().translate(_TABLE)
    name = _DROP.sub("", name.upper())
    return _SEPARATORS.sub(" ", name).strip()
