"""Leads (``leads/search``): the filter names a DAG file needs; the rest in submodules.

:mod:`.query` holds the request model, :mod:`.records` a page's reading and typing,
:mod:`.reader` the export that stays complete while leads change. This module imports
nothing heavy: the DAG processor imports it with every DAG file that uses the leads operator.
"""

from __future__ import annotations

#: leads/search's single-value filters (the help page's), each a template field of the operator.
FILTERS: tuple[str, ...] = (
    "lead_id",
    "list_id",
    "user_id",
    "owner_id",
    "status",
    "created_by",
    "last_modified_by",
    "email",
    "first_name",
    "last_name",
    "phone_number",
    "city",
    "state",
    "postal_code",
    "country",
)
