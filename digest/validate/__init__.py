"""Validation of a parsed return: every problem found at once, located, in plain English."""
