"""A process that starts the app (a web worker, a Celery worker, a command) does not load the
customer models' libraries: SciPy and scikit-learn take seconds to import and only training
uses them (`helpdesk.analytics.service.train_and_score` imports them when it runs)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_starting_the_app_loads_neither_scipy_nor_scikit_learn(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        from helpdesk.app import create_app
        from helpdesk.config import Settings
        create_app(Settings(DATABASE_URL="sqlite:///{tmp_path / "start.db"}"))
        loaded = sorted(m for m in ("scipy", "sklearn") if m in sys.modules)
        print(",".join(loaded) or "none")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "none", done.stdout + done.stderr
