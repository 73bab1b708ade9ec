"""The DuckDB store: submissions with their version history, values, explanations and audit."""
