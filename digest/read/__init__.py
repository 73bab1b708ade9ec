"""Safe reading of uploaded workbooks: check the container, then parse in a guarded child."""
