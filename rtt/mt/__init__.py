"""Machine translation engines behind one protocol (:class:`rtt.mt.base.MtEngine`)."""
