"""Every limit of the API, defined once: roles, sizes of requests, caps on what one caller may do.

Routes, request models, the key store, the CLI and the tests import these names; nothing else
spells a number. Limits that an operator may change per deployment are defaults of
``api.settings.Settings`` (which imports them from here).
"""
from __future__ import annotations

from recommender.engine import MAX_K

#: The roles an API key can have (the route x role matrix is in ``api.auth``).
ROLES = ("caseworker", "portal", "trainer", "admin")

#: k of a recommendation list: 1..MAX_K (the engine's own bound).
K_MAX = MAX_K
#: Request bodies over this many bytes are refused (413) before they are read.
MAX_BODY = 1 << 20  # 1 MiB

# Bounds on free text and lists: generous for real use, small enough that nothing a client sends
# can make a request expensive.
ID_MAX = 200
TEXT_MAX = 200
LIST_MAX = 50
EXCLUDE_MAX = 1000
MAX_OFFSET = 1_000_000
EXTRA_MAX = 30
#: Needs per request and characters per need: free text is matched to categories (about 1 ms a
#: long need), so these bound a request's CPU time.
NEEDS_MAX = 10
NEED_TEXT_MAX = 120
#: Events in one POST /v1/events batch.
EVENTS_MAX = 1000
#: Numbers in profiles: beyond these a value is a mistake or an attack, not a resident fact
#: (2**53 is the largest integer a JSON reader keeps exactly).
NUMBER_ABS_MAX = 1e15
INT_ABS_MAX = 2**53

# Defaults of the per-deployment caps (``Settings`` fields of the same names, lower-cased).
RATE_LIMIT_PER_KEY = 2000          # requests per key per second (429 + Retry-After beyond)
EVENTS_PER_KEY_PER_MINUTE = 60_000  # events one key may submit per minute
MAX_EVENTS_PER_RESIDENT = 10_000    # events stored for one resident (422 beyond)
HISTORY_LIMIT = 500                 # most recent events read per recommendation
MIN_FREE_BYTES = 64 << 20           # /readyz is not ready below this much free disk
