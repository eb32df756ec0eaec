"""The wire layer: how protocol messages (JSON dialects, protobuf, REST bodies) map onto the core.

One module per concern: ``options`` (a session's options from any wire form), ``events``
(pipeline events to server messages), ``design`` (the design article's dialect), ``proto``
(protobuf conversion) and ``errors`` (library errors to protocol errors).
"""
