"""Errors of the digital twin: one root (``TwinError``), one subclass per kind of bad input."""

from __future__ import annotations

from collections.abc import Sequence

from device_profiles.profile_yaml import Issue


class TwinError(Exception):
    """Root of every error the digital twin raises on purpose."""


# One problem in a ward file: where (``beds[3].room``), on which line, and what — the same shape as a
# device profile's problems, so both render as ``file:line: where: message``.
WardIssue = Issue


def _render(issue: WardIssue, source: str) -> str:
    """``file:line: where: message``; a problem of the whole file (where ``$``) as ``file: message``."""
    if issue.where == "$":
        return f"{source}:{issue.line}: {issue.message}" if issue.line else f"{source}: {issue.message}"
    return issue.render(source)


class WardError(TwinError):
    """A ward file (or live ward) was refused; ``issues`` name each key and line."""

    def __init__(self, source: str, issues: Sequence[WardIssue]) -> None:
        self.source = source
        self.issues = list(issues)
        super().__init__("\n".join(_render(i, source) for i in self.issues))

    def __reduce__(self) -> tuple[type[WardError], tuple[str, list[WardIssue]]]:  # picklable across processes
        return (type(self), (self.source, self.issues))


class ScenarioError(TwinError):
    """Unknown scenario name, or a scenario that cannot run on the given ward."""


class ParamError(ScenarioError):
    """A ``--set key=value`` override names an unknown parameter or has a bad value."""

    def __init__(self, scenario: str, key: str, message: str) -> None:
        self.scenario = scenario
        self.key = key
        self.message = message
        super().__init__(f"{scenario}: parameter {key!r}: {message}")

    def __reduce__(self) -> tuple[type[ParamError], tuple[str, str, str]]:  # picklable across processes
        return (type(self), (self.scenario, self.key, self.message))
