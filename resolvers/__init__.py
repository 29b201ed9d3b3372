"""Use cases behind the schema's fields: authorise, load (scoped to the caller), map."""
