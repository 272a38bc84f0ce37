"""dualduty: school-safety responsibility under 一岗双责 (one post, dual duty), as typed Python.

``import dualduty`` stays light: the public names below are imported on first use
(PEP 562), so the command line starts fast and networkx is loaded only when a graph
is converted for a notebook.
"""

from __future__ import annotations

from ._version import __version__

# Not ``from typing import TYPE_CHECKING``: importing typing costs a few milliseconds
# at every start of the command line; type checkers treat this name the same way.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .errors import DualdutyError, InvalidFile, InvalidOrganisation, Problem
    from .graph import ChainBasis, ChainLevel, ChainLink, OrgGraph, ResponsibilityChain, UnknownId
    from .io import dump, dumps, load, loads
    from .model import (
        ActivityVerb,
        BusinessArea,
        Duty,
        DutyKind,
        Facility,
        HazardDomain,
        InCharge,
        Organisation,
        OrgKind,
        Ownership,
        Package,
        Person,
        Place,
        PlaceKind,
        Post,
        RiskLevel,
        Role,
        Rules,
        School,
        SchoolLevel,
        Unit,
        UnitKind,
    )
    from .reference import reference_organisation
    from .storage import open_store

__all__ = [
    "ActivityVerb",
    "BusinessArea",
    "ChainBasis",
    "ChainLevel",
    "ChainLink",
    "DualdutyError",
    "Duty",
    "DutyKind",
    "Facility",
    "HazardDomain",
    "InCharge",
    "InvalidFile",
    "InvalidOrganisation",
    "OrgGraph",
    "OrgKind",
    "Organisation",
    "Ownership",
    "Package",
    "Person",
    "Place",
    "PlaceKind",
    "Post",
    "Problem",
    "ResponsibilityChain",
    "RiskLevel",
    "Role",
    "Rules",
    "School",
    "SchoolLevel",
    "Unit",
    "UnitKind",
    "UnknownId",
    "__version__",
    "dump",
    "dumps",
    "load",
    "loads",
    "open_store",
    "reference_organisation",
]

_WHERE: dict[str, str] = {
    **dict.fromkeys(["DualdutyError", "InvalidFile", "InvalidOrganisation", "Problem"], "errors"),
    **dict.fromkeys(
        ["ChainBasis", "ChainLevel", "ChainLink", "OrgGraph", "ResponsibilityChain", "UnknownId"],
        "graph",
    ),
    **dict.fromkeys(["dump", "dumps", "load", "loads"], "io"),
    "reference_organisation": "reference",
    "open_store": "storage",
}


def __getattr__(name: str) -> Any:
    if name in __all__ and name != "__version__":
        from importlib import import_module

        module = import_module(f".{_WHERE.get(name, 'model')}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
