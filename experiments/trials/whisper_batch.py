"""Whisper batching trial (issue 17): CTranslate2 generate over N 6 s windows at once vs N calls.

Run: .venv/bin/python experiments/trials/whisper_batch.py  (2 CPU threads, Whisper base int8).
Measured 2026-12-03: batched 0.8-0.9x the throughput of sequential at 2/4/8 windows, identical text.
"""
import glob
import time
from pathlib import Path
import numpy as np
import ctranslate2
from faster_whisper.audio import decode_audio
from faster_whisper.feature_extractor import FeatureExtractor
from faster_whisper.tokenizer import Tokenizer
import tokenizers
M = str(Path.home() / ".cache/rtt/models/whisper-base-ct2")
model = ctranslate2.models.Whisper(M, device="cpu", compute_type="int8", intra_threads=2, inter_threads=1)
hf = tokenizers.Tokenizer.from_file(M + "/tokenizer.json")
tok = Tokenizer(hf, True, task="transcribe", language="de")
fe = FeatureExtractor()
clips = sorted(glob.glob(str(Path(__file__).resolve().parents[3] / "shared/data/fleurs/fleurs-de-*.ogg")))[:8]
# 6 s windows, as the streaming decoder sees mid-utterance; padded to 30 s like faster-whisper
feats = []
for c in clips:
    a = decode_audio(c)[: 16000 * 6]
    f = fe(a)  # (80, frames)
    pad = np.zeros((80, 3000), dtype=np.float32); pad[:, : f.shape[1]] = f[:, :3000]
    feats.append(pad)
prompt = list(tok.sot_sequence) + [tok.no_timestamps]
def run(batch):
    x = ctranslate2.StorageView.from_array(np.stack(batch))
    enc = model.encode(x, to_cpu=False)
    r = model.generate(enc, [prompt] * len(batch), beam_size=1, max_length=120)
    return [hf.decode([t for t in rr.sequences_ids[0] if t < tok.eot]) for rr in r]
run(feats[:1])
for n in (1, 2, 4, 8):
    for arm in ("seq", "batch") if n % 2 else ("batch", "seq"):
        t = time.perf_counter()
        if arm == "seq":
            outs = [run([f])[0] for f in feats[:n]]
        else:
            outs = run(feats[:n])
        dt = time.perf_counter() - t
        print(f"n={n} {arm:5s} {dt*1000:7.0f} ms  per window {dt*1000/n:6.0f} ms", flush=True)
        if arm == "seq": seq_out = outs
        else: b_out = outs
    print("  identical:", seq_out == b_out)
