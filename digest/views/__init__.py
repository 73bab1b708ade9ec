"""What the app's pages and the meeting pack show, as plain data built from the store and engine."""
