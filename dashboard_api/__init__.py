"""dashboard_api: the FastAPI app (auth, ADT, alarms, FHIR, websockets), the central-station page
and the patient portal, the hash-chained audit log."""

from .app import create_app
from .audit import AuditLog, VerifyResult, verify
from .config import ApiConfig
from .errors import AuditError, AuthError, ConfigError, DashboardError
from .hub import Hub
from .users import ROLES, User, UserError, UserStore, demo_facility_login, demo_login
from .wardstate import WardState

__all__ = [
    "ROLES",
    "ApiConfig",
    "AuditError",
    "AuditLog",
    "AuthError",
    "ConfigError",
    "DashboardError",
    "Hub",
    "User",
    "UserError",
    "UserStore",
    "VerifyResult",
    "WardState",
    "create_app",
    "demo_facility_login",
    "demo_login",
    "verify",
]
