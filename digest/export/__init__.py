"""Files the digest hands out (spreadsheets now; the meeting pack later), made inert."""
