"""Write the next state-DB revision from what the packages' tables have and the migrations' head lacks.

    .venv/bin/python scripts/state_revision.py "alerting_alarms: note"

Upgrades a throw-away SQLite database to head, compares it with every package's tables
(``smartward.state_tables``) and writes ``device_profiles/state_migrations/versions/NNNN_<slug>.py`` with
the operations found (batch operations, so SQLite can alter a column). Read it before committing:
autogenerate does not see a renamed column (it writes drop + add: the data would go) and a new NOT NULL
column needs a ``server_default`` for the rows already there. Then ``tests/contract/test_state_migrations.py``
must pass.
"""

from __future__ import annotations

import re
import sys
import tempfile

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from device_profiles import state_db  # the checkout, installed editable by scripts/bootstrap.sh
from smartward import state_tables


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].strip():
        print(__doc__, file=sys.stderr)
        return 2
    message = argv[0].strip()
    numbers = [int(m.group(1)) for p in (state_db.MIGRATIONS / "versions").glob("*.py")
               if (m := re.match(r"(\d{4})_", p.name))]
    rev_id = f"{max(numbers, default=0) + 1:04d}"
    with tempfile.TemporaryDirectory() as tmp:
        engine = state_db.make_engine(f"sqlite:///{tmp}/head.sqlite3")
        state_db.upgrade(engine)
        with engine.connect() as conn:
            if not compare_metadata(MigrationContext.configure(conn), state_tables.metadata()):
                print("the migrations' head already is every package's tables: no revision to write", file=sys.stderr)
                return 1
            cfg = Config()
            cfg.set_main_option("script_location", str(state_db.MIGRATIONS).replace("%", "%%"))
            cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
            cfg.attributes["connection"] = conn
            cfg.attributes["target_metadata"] = state_tables.metadata()
            script = command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
        engine.dispose()
    path = getattr(script, "path", "")
    print(f"wrote {path}: read it, then run tests/contract/test_state_migrations.py")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
