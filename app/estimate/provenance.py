"""Sources for shipped default figures: every default says where it comes from and how sure it is.

Tags follow the project's reference notes: `[S]` read in the cited source, `[I]` indicative
(third-party data, sample bills, general engineering practice). A figure without a source
cannot be checked by the engineer who relies on it, so data files without one do not load.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

_TAG = re.compile(r"\[(S|I)\]")


def _require_tag(text: str) -> str:
    if not text.strip():
        raise ValueError("a source must not be empty")
    if not _TAG.search(text):
        raise ValueError(f"source {text!r} carries no tag: add [S] (read in source) or [I]")
    return text


SourceText = Annotated[str, AfterValidator(_require_tag)]
"""A citation ending in (or containing) its tag, e.g. "pavement.md, Layers: LPA 15-20 cm [I]"."""


class Sourced(BaseModel):
    """A model whose default parameters each need a source in `sources` (field name -> source)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: dict[str, SourceText] = Field(default_factory=dict)

    def sourced_parameters(self) -> set[str]:
        """Names of the parameters of this instance that must carry a source."""
        return set()

    @model_validator(mode="after")
    def _every_parameter_has_a_source(self) -> Sourced:
        required = self.sourced_parameters()
        missing = sorted(required - self.sources.keys())
        if missing:
            raise ValueError(f"no source given for: {', '.join(missing)}")
        unknown = sorted(self.sources.keys() - type(self).model_fields.keys())
        if unknown:
            raise ValueError(f"sources name unknown fields: {', '.join(unknown)}")
        return self
