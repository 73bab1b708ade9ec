"""Published statistics (DfE's Explore Education Statistics and LAIT, ONS populations, DfE's
statistical-neighbour models): recognising each file by its columns and parsing it into rows.

Parsing is pure; :mod:`digest.published.importer` hands the rows to :mod:`digest.store.published`,
the only place that writes them.
"""
