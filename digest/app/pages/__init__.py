"""The pages of the app, one module each: a layout built from a query string, and callbacks."""
