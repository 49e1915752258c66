"""The infrastructure rules are built from, apart from the rules themselves (see ``review/__init__.py``)."""
