"""One home per endpoint: its request model, checks, paging, record typing, codes and columns."""
