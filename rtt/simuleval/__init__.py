"""SimulEval (1.1.4) agents wrapping rtt's simultaneous policies, so that the reference
evaluator scores the same decoders the service runs::

    simuleval --agent-class rtt.simuleval.agents.RttTextAgent \\
        --source src.txt --target ref.txt --source-lang es --target-lang en --policy wait-3 \\
        --output out/ --quality-metrics BLEU --latency-metrics AL LAAL AP DAL

    simuleval --agent-class rtt.simuleval.agents.RttSpeechAgent \\
        --source wavs.txt --target refs.txt --source-lang es --target-lang en \\
        --source-segment-size 320 --output out/ --computation-aware

``rtt.simuleval.data.write_flores`` / ``write_fleurs`` write those input files from the shared
data.  ``simuleval`` is in the ``research`` extra.
"""
