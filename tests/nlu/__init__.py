"""Tests of the custom NLU components (nlu/)."""
