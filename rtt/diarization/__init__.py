"""Speaker labels for live sessions: segmentation (who speaks when), a speaker encoder (what a
voice sounds like) and an online tracker (which known voice an utterance is)."""
