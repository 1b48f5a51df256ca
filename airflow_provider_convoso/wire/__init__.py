"""What every endpoint shares on the wire: the query base, the envelope and its errors, paging."""
