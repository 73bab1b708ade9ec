"""PQA Digest: the quarterly performance digest of a local safeguarding children partnership."""

__version__ = "0.1.0"
