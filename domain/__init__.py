"""Rules of supervision: working days, lights, the item lifecycle, and the queries that apply them.

Modules named after a rule (``workdays``, ``lights``, ``lifecycle``) are pure: no session, no
network, no Prefect. Modules that read or write the database take a session and only flush.
"""
