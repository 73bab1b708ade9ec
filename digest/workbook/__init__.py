"""The return workbook: its layout (shared with validation) and the template data leads fill in."""
