"""Digital twin of a ward: ward model, Monte Carlo drills (SimPy), reports.

Public API: the ward model (:func:`load_ward`, :func:`parse_ward`, :class:`WardModel`), the scenario
interface (:class:`Scenario`, :class:`Metric`), the runner (:func:`run`, :class:`Report`,
:func:`compare`), the report files (:func:`write_reports`, :func:`write_compare`; matplotlib is only
imported when a page is rendered) and errors. Scenarios: ``digital_twin.scenarios.SCENARIOS``.
"""

from .errors import ParamError, ScenarioError, TwinError, WardError, WardIssue
from .model import (
    BedModel,
    Device,
    Edge,
    Equipment,
    Exit,
    Gateway,
    Graph,
    Room,
    StaffMember,
    WardModel,
    example_ward_path,
    load_ward,
    parse_ward,
)
from .report import Report, compare, report_bytes
from .report_html import render_compare_html, render_html, write_compare, write_reports
from .runner import get_scenario, run
from .scenario import (
    Metric,
    ParamSpec,
    Scenario,
    ScenarioParams,
    describe_params,
    parse_assignments,
    parse_params,
    prepare,
)
from .stats import Difference, MetricSummary, summarize, welch

__all__ = [
    "BedModel",
    "Device",
    "Difference",
    "Edge",
    "Equipment",
    "Exit",
    "Gateway",
    "Graph",
    "Metric",
    "MetricSummary",
    "ParamError",
    "ParamSpec",
    "Report",
    "Room",
    "Scenario",
    "ScenarioError",
    "ScenarioParams",
    "StaffMember",
    "TwinError",
    "WardError",
    "WardIssue",
    "WardModel",
    "compare",
    "describe_params",
    "example_ward_path",
    "get_scenario",
    "load_ward",
    "parse_assignments",
    "parse_params",
    "parse_ward",
    "prepare",
    "render_compare_html",
    "render_html",
    "report_bytes",
    "run",
    "summarize",
    "welch",
    "write_compare",
    "write_reports",
]
