"""Drop-in replacements of other deduplication libraries' APIs, backed by dupsift's engine."""
