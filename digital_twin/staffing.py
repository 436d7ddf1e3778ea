"""Who is on shift: the ward roster with what-if overrides (``nurses=2``, ``staff_scale=0.5``)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping

from .errors import ScenarioError
from .model import Role, Shift, WardModel

ROLES: tuple[Role, ...] = ("nurse", "charge_nurse", "hca", "physician", "rrt")


def on_shift(ward: WardModel, shift: Shift, *, overrides: Mapping[Role, int | None] | None = None,
             scale: float = 1.0) -> dict[Role, int]:
    """Head count per role on ``shift``.

    ``overrides`` replaces a role's count (``None`` keeps the roster); ``scale`` then multiplies every
    role (rounded half up, so 4 x 0.5 = 2 and 1 x 0.5 = 1). At least one person must remain.
    """
    counts: dict[Role, int] = dict.fromkeys(ROLES, 0)
    counts.update(Counter(s.role for s in ward.staff_on(shift)))
    for role, n in (overrides or {}).items():
        if n is not None:
            counts[role] = n
    if scale != 1.0:
        counts = {r: (math.floor(n * scale + 0.5) if n else 0) for r, n in counts.items()}
    if sum(counts.values()) < 1:
        raise ScenarioError(f"ward {ward.id!r}: nobody on the {shift} shift (check staff in the ward file or the overrides)")
    return counts
