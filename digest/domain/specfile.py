"""Strict loading of the project's declarative YAML files (the dataset, indicators, settings).

A misspelt or unknown field, a duplicated key or a value of the wrong type fails at load time with
the file and the field named, so a typo can never be silently ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

Model = TypeVar("Model", bound=BaseModel)


class SpecError(ValueError):
    """A declarative file that does not say what it must; the message names the file and field."""


class Strict(BaseModel):
    """Base of every model read from a YAML file: unknown fields are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a mapping with the same key twice."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise SpecError(f"line {key_node.start_mark.line + 1}: the key '{key}' appears twice")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file safely, refusing duplicated keys."""
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except SpecError as error:
        raise SpecError(f"{path}: {error}") from None
    except yaml.YAMLError as error:
        raise SpecError(f"{path}: not valid YAML ({error})") from None


def _where(location: tuple[int | str, ...], document: Any) -> str:
    """Describe a pydantic error location, naming list items by their ``code`` or ``id``."""
    text = ""
    node = document
    for step in location:
        if isinstance(step, int):
            node = node[step] if isinstance(node, list) and step < len(node) else None
            label = (node.get("code") or node.get("id")) if isinstance(node, dict) else None
            text += f"[{label or step}]"
        else:
            node = node.get(step) if isinstance(node, dict) else None
            text += f".{step}" if text else str(step)
    return text or "(top level)"


def load_model(path: Path, model: type[Model], document: Any = None) -> Model:
    """Read ``path`` into ``model``; any problem raises :class:`SpecError` naming file and field."""
    document = read_yaml(path) if document is None else document
    try:
        return model.model_validate(document)
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            where = _where(problem["loc"], document)
            if problem["type"] == "extra_forbidden":
                lines.append(f"{path}: {where}: unknown field (check its spelling)")
            elif problem["type"] == "missing":
                lines.append(f"{path}: {where}: required field is missing")
            else:
                lines.append(f"{path}: {where}: {problem['msg']}")
        raise SpecError("\n".join(lines)) from None
