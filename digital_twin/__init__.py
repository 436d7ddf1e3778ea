"""Digital twin of a ward: ward model, Monte Carlo drills (SimPy), reports.

Public API: the ward model (:func:`load_ward`, :func:`parse_ward`, :class:`Ward`), the scenario
interface (:class:`Scenario`, :class:`Metric`) and errors. The runner and reports live in
``digital_twin.runner`` / ``digital_twin.report_html`` (imported on demand: they pull in matplotlib).
"""

from .errors import ParamError, ScenarioError, TwinError, WardError, WardIssue
from .model import (
    Bed,
    Device,
    Edge,
    Equipment,
    Exit,
    Gateway,
    Graph,
    Room,
    StaffMember,
    Ward,
    example_ward_path,
    load_ward,
    parse_ward,
)
from .scenario import Metric, Scenario, ScenarioParams, parse_assignments, parse_params
from .stats import Difference, Summary, summarize, welch

__all__ = [
    "Bed", "Device", "Difference", "Edge", "Equipment", "Exit", "Gateway", "Graph", "Metric", "ParamError",
    "Room", "Scenario", "ScenarioError", "ScenarioParams", "StaffMember", "Summary", "TwinError", "Ward",
    "WardError", "WardIssue", "example_ward_path", "load_ward", "parse_assignments", "parse_params",
    "parse_ward", "summarize", "welch",
]
