"""The judged relevance set: a catalogue with near-duplicates, realistic queries and what each must find.

`python -m bench.relevance` prints top-5 recall and MRR per database backend; the test
tests/catalogue/test_relevance.py fails below the recall floor written there.
"""
