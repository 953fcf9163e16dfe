"""The catalogue file room: the catalogue upload kind of `common.imports` (`importer.py`: columns,
how a row is read, handing checked rows to `catalogue.planner`), the supplier's upload pages
(`views.py`) and the upload API (`api.py`)."""
