"""Treatment rule sets: which works a road segment gets from its pavement, condition and class.

A rule set is data (one JSON file per set in `data/rules/`, slug = file stem), versioned in the
store like templates and catalogs, so a city can write its own handling policy and every saved
programme records the version it was made with. It says:

- how a condition class is read: the survey's class (`kondisi`, with aliases), else the IRI
  bands, else the PCI bands;
- which road classes exist and how much each weighs in the priority;
- the treatments, each priced by a template (or a template per road class, for
  reconstruction) on the whole road or on the share of it the choice states;
- the choices: (pavement, condition, road classes) -> treatment, first match wins;
- how complaint points count: the distance within which one belongs to a segment and the
  patched area each one stands for;
- the priority weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from app.estimate.datafiles import load_directory
from app.estimate.localized import LocalizedText
from app.estimate.provenance import Sourced
from app.estimate.templates import Slug

Share = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
Weight = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
CONDITIONS = ("baik", "sedang", "rusak ringan", "rusak berat")
"""Condition classes of Indonesian road inventories, best to worst."""
NO_WORKS = "none"
"""The treatment of a segment that needs no priced works."""


class Band(Sourced):
    """Condition classes from a survey index: `limits[k]` ends class k (IRI: rises with damage,
    upper limits; PCI: falls with damage, lower limits); past the last limit the worst class."""

    limits: tuple[Positive, Positive, Positive]

    def sourced_parameters(self) -> set[str]:
        """The band limits are a published classification to cite."""
        return {"limits"}


class Treatment(Sourced):
    """A kind of works: its name, the handling (rutin, berkala, rehabilitasi, rekonstruksi,
    peningkatan) it belongs to, and the template that prices it (or one per road class)."""

    name: LocalizedText
    handling: LocalizedText
    template: Slug | None = None
    template_by_class: dict[str, Slug] | None = None

    @model_validator(mode="after")
    def _one_template_source(self) -> Treatment:
        if self.template is not None and self.template_by_class is not None:
            raise ValueError("a treatment has a template or a template_by_class, not both")
        return self

    def sourced_parameters(self) -> set[str]:
        """The template choice is a claim about what the works are."""
        return {"template"} if self.template else {"template_by_class"}


class Choice(Sourced):
    """One rule: segments of this pavement and condition (and road class, when given) get
    `treatment` on `treated_share` of their area; `area_from_complaints` takes the area from
    the complaint points near the segment instead, where there are any."""

    pavement: str
    condition: str
    road_classes: tuple[str, ...] | None = None
    treatment: str
    treated_share: Share = 1.0
    area_from_complaints: bool = False

    def sourced_parameters(self) -> set[str]:
        """The treatment chosen, and a share of the area other than all of it."""
        return {"treatment", "treated_share"} if self.treated_share != 1.0 else {"treatment"}


class Complaints(Sourced):
    """Complaint points: within `distance_m` of a segment they are its own; each stands for
    `patch_m2` of patching; `full_priority_at` of them give the complaint part its full weight."""

    distance_m: Positive
    patch_m2: Positive
    full_priority_at: Annotated[int, Field(ge=1)]

    def sourced_parameters(self) -> set[str]:
        """Each figure is a policy to cite."""
        return {"distance_m", "patch_m2", "full_priority_at"}


class Priority(Sourced):
    """Priority score 0-100: the weights of condition, road class, complaints and cost per m2
    (`reference_cost_per_m2` scores one half: cheaper works per m2 score higher)."""

    weights: dict[str, Weight]
    condition_scores: dict[str, Annotated[float, Field(ge=0, le=1)]]
    reference_cost_per_m2: Positive

    @model_validator(mode="after")
    def _complete(self) -> Priority:
        expected = {"condition", "road_class", "complaints", "cost"}
        if set(self.weights) != expected:
            raise ValueError(f"weights name exactly {', '.join(sorted(expected))}")
        if sum(self.weights.values()) <= 0:
            raise ValueError("the weights add up to nothing")
        if set(self.condition_scores) != set(CONDITIONS):
            raise ValueError(f"condition_scores name exactly {', '.join(CONDITIONS)}")
        return self

    def sourced_parameters(self) -> set[str]:
        """Every figure of the score is a policy to cite."""
        return {"weights", "condition_scores", "reference_cost_per_m2"}


class RuleSet(Sourced):
    """A handling policy; `version` is filled by the store (None for files on disk)."""

    slug: Slug
    version: int | None = Field(default=None, ge=1)
    name: LocalizedText
    description: LocalizedText
    condition_aliases: dict[str, str] = Field(default_factory=dict)
    pavements: dict[str, tuple[str, ...]]
    """Pavement types and the words inventories write for them (`aspal`: hotmix, AC, ...)."""
    road_classes: dict[str, Annotated[float, Field(ge=0, le=1)]]
    """Road classes (fungsi) and their priority score 0-1."""
    default_road_class: str
    iri: Band
    pci: Band
    treatments: dict[str, Treatment]
    choices: tuple[Choice, ...]
    complaints: Complaints
    priority: Priority

    @model_validator(mode="after")
    def _consistent(self) -> RuleSet:
        if self.default_road_class not in self.road_classes:
            raise ValueError(f"default_road_class {self.default_road_class!r} is no road class")
        if NO_WORKS in self.treatments:
            raise ValueError(f"{NO_WORKS!r} is the treatment of no works: do not define it")
        for alias, condition in self.condition_aliases.items():
            if condition not in CONDITIONS:
                raise ValueError(f"alias {alias!r} names no condition class: {condition!r}")
        for name, treatment in self.treatments.items():
            missing = set(self.road_classes) - set(treatment.template_by_class or self.road_classes)
            if missing:
                raise ValueError(f"treatment {name} has no template for {', '.join(missing)}")
        for number, choice in enumerate(self.choices):
            if choice.pavement not in self.pavements:
                raise ValueError(f"choice {number}: no pavement {choice.pavement!r}")
            if choice.condition not in CONDITIONS:
                raise ValueError(f"choice {number}: no condition {choice.condition!r}")
            if choice.treatment != NO_WORKS and choice.treatment not in self.treatments:
                raise ValueError(f"choice {number}: no treatment {choice.treatment!r}")
            unknown = set(choice.road_classes or ()) - set(self.road_classes)
            if unknown:
                raise ValueError(f"choice {number}: no road class {', '.join(sorted(unknown))}")
        for pavement in self.pavements:
            for condition in CONDITIONS:
                if not any(
                    c.pavement == pavement and c.condition == condition and c.road_classes is None
                    for c in self.choices
                ):
                    raise ValueError(
                        f"no choice for every road class of {pavement}, {condition}: "
                        "end each pavement and condition with one that names no class"
                    )
        return self

    def sourced_parameters(self) -> set[str]:
        """The class scores, the default class and the aliases are claims to cite."""
        return {"road_classes", "default_road_class", "condition_aliases", "pavements"}

    def template_of(self, treatment: str, road_class: str) -> str | None:
        """The template that prices `treatment` on a road of `road_class` (None: no works)."""
        if treatment == NO_WORKS:
            return None
        found = self.treatments[treatment]
        if found.template_by_class is not None:
            return found.template_by_class[road_class]
        return found.template

    def templates(self) -> set[str]:
        """Every template the rule set may price with."""
        slugs: set[str] = set()
        for treatment in self.treatments.values():
            if treatment.template is not None:
                slugs.add(treatment.template)
            slugs.update((treatment.template_by_class or {}).values())
        return slugs


def load_builtin_rule_sets(directory: Path) -> dict[str, RuleSet]:
    """Read every `*.json` rule set in `directory`, keyed by slug (the file stem)."""
    return load_directory(directory, RuleSet)
