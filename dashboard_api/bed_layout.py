"""The central station's bed layout per ward (table ``dashboard_bed_layouts`` in the state DB).

A layout is the ward's beds in the order the station shows them (8-64 beds, left to right, top to
bottom) and optionally the number of columns. A bed of the layout keeps its place whether it is
occupied or not (an empty bed is an empty tile at its position); beds that are not in the layout
(a live drill's beds, an admission to a bed the layout does not list) come after the layout's beds
and never move a bed already shown. A ward without a stored layout shows its beds in name order,
new ones appended. Synchronous: call through ``asyncio.to_thread``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import orjson
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from device_profiles.state_db import ensure_schema

MIN_BEDS, MAX_BEDS, MAX_COLUMNS = 8, 64, 16
BedId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]

metadata = sa.MetaData()
layouts_table = sa.Table(
    "dashboard_bed_layouts", metadata,
    sa.Column("ward", sa.String(64), primary_key=True),
    sa.Column("beds", sa.Text, nullable=False),  # JSON list of bed ids, in screen order
    sa.Column("columns", sa.Integer, nullable=True),  # None: the station picks the columns for the screen
    sa.Column("updated_t", sa.BigInteger, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
)


class BedLayoutIn(BaseModel):
    """What a charge nurse or an admin stores: the beds in screen order, optionally the columns."""

    model_config = ConfigDict(extra="forbid")

    beds: list[BedId] = Field(min_length=MIN_BEDS, max_length=MAX_BEDS,
                              description=f"bed ids in screen order (left to right, top to bottom), {MIN_BEDS}-{MAX_BEDS}")
    columns: int | None = Field(default=None, ge=1, le=MAX_COLUMNS,
                                description="columns of the grid; omitted: the station fits the screen")

    @field_validator("beds")
    @classmethod
    def _unique(cls, beds: list[str]) -> list[str]:
        seen: set[str] = set()
        for b in beds:
            if b in seen:
                raise ValueError(f"bed {b!r} is listed twice: each bed has one place")
            seen.add(b)
        return beds


@dataclass(frozen=True, slots=True)
class BedLayout:
    ward: str
    beds: tuple[str, ...]
    columns: int | None
    updated_t: int
    updated_by: str


class BedLayouts:
    """The stored layouts (one row per ward)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        ensure_schema(engine)

    def get(self, ward: str) -> BedLayout | None:
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(layouts_table).where(layouts_table.c.ward == ward)).first()
        if r is None:
            return None
        return BedLayout(str(r.ward), tuple(str(b) for b in orjson.loads(str(r.beds))),
                         None if r.columns is None else int(r.columns), int(r.updated_t), str(r.updated_by))

    def wards(self) -> list[str]:
        with self.engine.connect() as conn:
            return sorted(str(w) for w in conn.execute(sa.select(layouts_table.c.ward)).scalars())

    def put(self, layout: BedLayout) -> None:
        """Store (or replace) the ward's layout."""
        row = {"beds": orjson.dumps(list(layout.beds)).decode(), "columns": layout.columns,
               "updated_t": layout.updated_t, "updated_by": layout.updated_by}
        with self.engine.begin() as conn:
            done = conn.execute(layouts_table.update().where(layouts_table.c.ward == layout.ward).values(**row))
            if not done.rowcount:
                conn.execute(layouts_table.insert().values(ward=layout.ward, **row))

    def delete(self, ward: str) -> bool:
        """Forget the ward's layout (the station goes back to name order); whether there was one."""
        with self.engine.begin() as conn:
            return bool(conn.execute(layouts_table.delete().where(layouts_table.c.ward == ward)).rowcount)
