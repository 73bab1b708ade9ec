"""The PQA Digest web app (Dash). Only this package imports Dash."""
