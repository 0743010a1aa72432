"""Small helpers shared by test_booking.py, test_booking_concurrency.py and
test_recurrence_oracle.py, on top of tests/e2e/harness.py (which starts the
real binary on a temporary database and speaks JSON over HTTP)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ADMIN_TOKEN, Client, Server, ServerError, wait_until  # noqa: E402,F401


def expect(res, status, what=""):
    """Asserts the status of a harness Response; the message shows the body."""
    if res.status != status:
        raise AssertionError("%s: expected %d, got %r" % (what, status, res))
    return res
