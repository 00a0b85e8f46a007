"""The inbox's collection and the units' signed CSV/JSON templates."""
