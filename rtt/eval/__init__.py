"""The evaluation harness: golden-set suites, runners, reports, regression gates and canaries.

Metrics themselves live in :mod:`rtt.metrics`; this package decides what is run, feeds it to the
system the way a live user would (word by word, audio at real-time pace), and turns the traces
into the stable JSON keys documented in ``docs/evaluation.md``.
"""
