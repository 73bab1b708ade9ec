"""Comparing figures: confidence intervals, benchmarks and the judgements the chair sees."""
