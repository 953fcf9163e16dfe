"""The supplier portal: a supplier's people list, add, change, withdraw and submit their own offers,
on pages (`views.py`, `forms.py`) and through the offers API (`api.py`). Writes go through
`catalogue.services` (the planner and the moderation rules)."""
