"""Card top-ups: a patient pays by card what their personal budget's wallet cannot (issue 15)."""
