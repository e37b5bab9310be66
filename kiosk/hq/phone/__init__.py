"""The customers' phones on HQ: follow a ticket by its token (`follow_index`, `views`, `routes`),
the public branch list (`branches`), remote tickets (`remote`), the pages (`pages`, `static/`)
and the notices (`notify`)."""
