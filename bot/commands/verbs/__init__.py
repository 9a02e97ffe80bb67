"""One module per command family; each holds a ``COMMANDS`` tuple the registry discovers."""
