"""Instance A's scheduler in ``tests/test_second_host.py``: ``flask --app wsgi scheduler run``
exactly as production runs it, with one test-only hook that no production code path loads.

After ``JIUZAI_TEST_STOP_AFTER_PAYMENTS`` payments of a roll the roll stops dead, as on a host
losing power: the process prints ``PAID <n>`` and its roll thread waits for the SIGKILL (the
main thread goes on renewing the scheduler lease, as a live but stuck host would). So that the
test need not wait for the import, the process builds the application first (``wsgi``, which
touches no table), prints ``READY`` and starts the scheduler when a line comes on its stdin.

    python -m tests.second_host_scheduler        # from the repository root
"""
from __future__ import annotations

import os
import sys
import threading


def main() -> None:
    from flask.cli import main as flask_main

    from app.cycles.service import disbursement

    stop_after = int(os.environ["JIUZAI_TEST_STOP_AFTER_PAYMENTS"])

    def freeze(count: int) -> None:
        if count == stop_after:
            print(f"PAID {count}", flush=True)
            threading.Event().wait()  # the power is out: nothing more happens in this roll

    disbursement.after_payment = freeze
    import wsgi  # noqa: F401  (the application `flask --app wsgi` loads below, built now)

    print("READY", flush=True)
    sys.stdin.readline()
    sys.argv = ["flask", "--app", "wsgi", "scheduler", "run"]
    flask_main()


if __name__ == "__main__":
    main()
