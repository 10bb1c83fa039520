"""`just contract`: schemathesis against a throwaway server (see `__main__.py`)."""
