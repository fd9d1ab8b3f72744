"""MkDocs hook: show doctest examples and reST roles in docstrings as Markdown code.

The package's docstrings are plain reST-flavoured text (``>>>`` examples, ``:func:`x```
roles, ``::`` literal blocks, simple tables). Without help, Markdown reads ``>>>`` as nested
block quotes and ``[...]`` in an example's output as a link. This preprocessor wraps each
run of doctest lines in a ```` ```pycon ```` fence, shows reST simple tables as text, drops
the ``::`` literal-block marker and turns roles into inline code, for every page and
docstring.
It runs before the fence extension, so the fences it writes are highlighted as usual.
"""

from __future__ import annotations

import re
from typing import Any

from markdown import Extension, Markdown  # type: ignore[import-untyped]
from markdown.preprocessors import Preprocessor  # type: ignore[import-untyped]
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_PROMPT = re.compile(r"^(?P<indent>\s*)>>>( |$)")
_RST_TABLE_BORDER = re.compile(r"^\s*=+(\s+=+)+\s*$")
_LITERAL_MARK = re.compile(r"(?<=\S)::$")
_ROLE = re.compile(
    r":(?:func|class|mod|meth|attr|data|exc|obj|const|term):`~?([^`<]+?)(?:\s*<[^>]*>)?`"
)


class _DoctestBlocks(Preprocessor):  # type: ignore[misc]
    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        fence: str | None = None
        index = 0
        while index < len(lines):
            line = lines[index]
            opened = _FENCE.match(line)
            if fence is not None:
                if opened and opened.group(1).startswith(fence):
                    fence = None
                out.append(line)
                index += 1
                continue
            if opened:
                fence = opened.group(1)
                out.append(line)
                index += 1
                continue
            if _RST_TABLE_BORDER.match(line):
                index = self._table(lines, index, out)
                continue
            prompt = _PROMPT.match(line)
            if prompt is None:
                out.append(_LITERAL_MARK.sub(":", _ROLE.sub(r"`\1`", line)))
                index += 1
                continue
            indent = prompt["indent"]
            if out and out[-1].strip():
                out.append("")
            out.append(f"{indent}```pycon")
            while index < len(lines) and lines[index].strip():
                out.append(lines[index])
                index += 1
            out.append(f"{indent}```")
            out.append("")
        return out

    @staticmethod
    def _table(lines: list[str], index: int, out: list[str]) -> int:
        """A reST simple table (three ``===`` border lines) shown as preformatted text."""
        borders = 0
        end = index
        while end < len(lines) and lines[end].strip() and borders < 3:
            borders += bool(_RST_TABLE_BORDER.match(lines[end]))
            end += 1
        out.extend(["", "```text", *lines[index:end], "```", ""])
        return end


class _DoctestExtension(Extension):  # type: ignore[misc]
    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Markdown's API name
        # Fences are stashed at priority 25; run just before them.
        md.preprocessors.register(_DoctestBlocks(md), "apscores_doctest_blocks", 27)


@event_priority(100)
def on_config(config: MkDocsConfig, **_: Any) -> MkDocsConfig:
    """Add the extension to the list MkDocs and mkdocstrings both build Markdown from."""
    config.markdown_extensions.append(_DoctestExtension())
    return config
