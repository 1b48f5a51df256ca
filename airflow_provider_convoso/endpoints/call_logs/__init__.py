"""Call logs (``log/retrieve``): the filter names a DAG file needs; the rest in submodules.

:mod:`.query` holds the request model and account-local windows, :mod:`.records` a page's
reading and typing, :mod:`.reader` the paging reader. This module imports nothing heavy:
the DAG processor imports it with every DAG file that uses the call-log operator.
"""

from __future__ import annotations

#: log/retrieve's single-value filters, in the help page's order.
FILTERS: tuple[str, ...] = (
    "id",
    "lead_id",
    "list_id",
    "campaign_id",
    "queue_id",
    "user_id",
    "status",
    "phone_number",
    "number_dialed",
    "first_name",
    "last_name",
    "called_count",
    "call_type",
)
