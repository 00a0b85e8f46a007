"""Settings and default policy files. Imports nothing else of duban's."""
