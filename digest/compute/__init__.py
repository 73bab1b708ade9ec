"""Computing indicators from the stored returns: windows, pooling and completeness."""
