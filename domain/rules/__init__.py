"""Pure rules: working days, lights, the lifecycle, reporting decisions, the briefing's layout.

Nothing here opens a session, reads a setting or the clock, or touches a file or the network;
rules import only other rules, ``models`` (types and columns) and ``config.errors``.
"""
