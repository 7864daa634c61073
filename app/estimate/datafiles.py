"""Reading shipped data files: one JSON document per model, slug = file stem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from app.errors import ConfigurationError

M = TypeVar("M", bound=BaseModel)


def load_directory(directory: Path, model: type[M]) -> dict[str, M]:
    """Validate every `*.json` in `directory` as `model`, keyed by file stem in sorted order.

    The slug comes from the file name so a file cannot silently shadow another; a file that
    states a different slug, or does not validate, is a configuration error naming the file.
    """
    return {path.stem: _load(path, model) for path in sorted(directory.glob("*.json"))}


def _load(path: Path, model: type[M]) -> M:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: expected a JSON object")
    if data.setdefault("slug", path.stem) != path.stem:
        raise ConfigurationError(f"{path}: slug {data['slug']!r} differs from the file name")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigurationError(f"{path}: {exc}") from exc
