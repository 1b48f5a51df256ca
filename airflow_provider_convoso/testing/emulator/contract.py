"""The emulator's own copy of the wire facts: paths, error codes and texts, caps, shapes.

Kept apart from the client's tables on purpose (an oracle that read them could not catch a
wrong one); ``tests/unit/test_emulator_contract.py`` compares the two so drift shows.
"""

from __future__ import annotations

import re

#: The API's prefix before every endpoint path.
PREFIX = "/v1"
AGENT_PERFORMANCE_PATH = f"{PREFIX}/agent-performance/search"
CALL_LOG_PATH = f"{PREFIX}/log/retrieve"
PRODUCTIVITY_PATH = f"{PREFIX}/agent-productivity/search"
USERS_PATH = f"{PREFIX}/users/search"
CAMPAIGNS_PATH = f"{PREFIX}/campaigns/search"
LISTS_PATH = f"{PREFIX}/lists/search"
STATUSES_PATH = f"{PREFIX}/status/search"
LEADS_PATH = f"{PREFIX}/leads/search"
LOOKUP_PATHS = (USERS_PATH, CAMPAIGNS_PATH, LISTS_PATH, STATUSES_PATH)
ALL_PATHS = frozenset({AGENT_PERFORMANCE_PATH, CALL_LOG_PATH, PRODUCTIVITY_PATH, LEADS_PATH, *LOOKUP_PATHS})

#: "Auth token is invalid".
AUTH_ERROR_CODE = 5001
#: "Invalid offset value": an offset past an endpoint's cap, or one that is not a number.
OFFSET_ERROR_CODE = 7231
OFFSET_ERROR_TEXT = "Invalid offset value"
#: The largest offset each paged endpoint accepts.
CALL_LOG_OFFSET_CAP = 40_000
PRODUCTIVITY_OFFSET_CAP = 50_000
#: agent-productivity/search's largest page (a larger limit is clamped to it).
PRODUCTIVITY_PAGE_CAP = 1000
#: leads/search's largest page ("maximum is 2000"), and what a larger limit gets.
LEADS_LIMIT_CAP = 2000
LEADS_LIMIT_ERROR = (7230, "Invalid limit value")

#: Agent performance's ID filters: parameter, error code, contract message, Agent attribute.
AGENT_PERFORMANCE_FILTERS: tuple[tuple[str, int, str, str], ...] = (
    ("campaign_ids", 6026, "Invalid campaign ID", "campaigns"),
    ("queue_ids", 6041, "Invalid queue ID", "queues"),
    ("list_ids", 6042, "Invalid list ID", "lists"),
    ("user_ids", 6006, "Invalid user ID", "user_ids"),
    ("status_ids", 6050, "Invalid status ID", "statuses"),
)
#: Call logs' filters the service checks: parameter -> (error code, text).
CALL_LOG_FILTER_CODES: dict[str, tuple[int, str]] = {
    "list_id": (6002, "Unknown List Id"),
    "campaign_id": (6004, "Unknown Campaign ID"),
    "user_id": (6006, "Unknown User Id"),
    "queue_id": (6030, "Unknown Queue ID"),
}

FAULT_KINDS: tuple[str, ...] = ("429", "500", "502", "503", "504", "timeout", "reset", "truncated", "slow")
SHAPES = ("list", "data", "keyed")
ERROR_SHAPES = ("contract", "code_text")

DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: What a proxy in front of the service sends with a 5xx.
HTML_ERROR = "<html><head><title>{code} {reason}</title></head><body><h1>{code} {reason}</h1><hr>nginx</body></html>"
