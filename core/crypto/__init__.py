"""Haven's encrypted-field wrapper, its keys and the keyed blind indexes used for exact search.

A plain package, not an app: import `core.crypto.fields` for model fields, `core.crypto.blind_index` for
search. `core.crypto.fields` is the only module in Haven that may import `encrypted_model_fields`.
"""
