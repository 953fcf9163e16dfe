"""Checks of the code's shape that run in `make lint` and are not part of the apps.

`lint.contracts` holds import-linter contract types (registered under `contract_types` in
`pyproject.toml`). This package is not a root package of the import graph: nothing in the apps
imports it, and it imports nothing of theirs (it reads their source).
"""
