"""Returns: a buyer (today a patient, or someone acting for them) sends back some packs of a line that
was dispatched; the supplier accepts (the goods came back) or refuses with a reason. Models in
`models.py` (imported by `purchasing.models`, so they are purchasing's), rules in `services.py`."""
