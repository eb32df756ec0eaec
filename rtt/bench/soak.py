"""Soak test of the service: ``rtt bench serve --soak MINUTES``.

Starts ``rtt serve`` as its own process (real models, the default config) and keeps text and
speech sessions running for the given minutes while connections are dropped at random: a
client aborts its TCP connection (no closing handshake) right after sending a sentence's last
word or mid-clip, reconnects with ``session_id``, ``last_event_id`` and re-sends what came
after ``last_seq``, as docs/api.md tells clients to.

Counted per session, client-side: sentences whose last word the server processed (finals
owed), finals received (by utterance id), duplicates (an utterance id received twice) and
lost (owed but never received).  The server's RSS is sampled throughout, and 100 short
sessions are run back to back before and after the soak to give the memory cost per 100
sessions.  Results go to ``reports/serve/soak.json`` and a generated ``soak.md``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rtt.audio.pcm import PIPELINE_RATE
from rtt.bench.common import machine, write_json
from rtt.bench.serve import ServerProcess, _pcm16k, rss_mb
from rtt.config import DEFAULT_CONFIG_PATH
from rtt.datasets import fleurs_clips, paired

DEFAULT_OUT = Path("reports/serve/soak.json")
FRAME_MS = 100
DROP_P = 0.15  # a sentence's connection is aborted right after its last word with this chance
WORD_DELAY_S = 0.25  # a typist's pace (the load benchmark's); 64 of them leave the ASR some CPU


@dataclass
class SoakTally:
    owed: int = 0  # finals the server owes: sentences (or utterances) it accepted in full
    received: list[tuple[str, int]] = field(default_factory=list)  # (session, utterance) of each final
    heard: set[tuple[str, int]] = field(default_factory=set)  # (session, utterance) of each final_asr
    drops: int = 0
    resumes: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return len(self.received) - len(set(self.received))

    @property
    def lost(self) -> int:
        return max(0, self.owed - len(set(self.received)))


class _Resumable:
    """A realtime stream that survives abrupt drops: remembers unprocessed inputs by seq."""

    def __init__(self, client: Any, tally: SoakTally, rng: random.Random, **hello: Any) -> None:
        self.client, self.tally, self.rng, self.hello = client, tally, rng, hello
        self.rt: Any = None
        self.pending: list[tuple[int, str, Any]] = []  # (seq, kind, payload) not yet known processed

    async def open(self) -> None:
        self.rt = await self.client.realtime(**self.hello).connect()

    def _harvest(self) -> None:
        sid = self.rt.session_id
        self.tally.received += [(sid, m.utterance_id) for m in self.rt.received if m.type == "final_translation"]
        self.tally.heard |= {(sid, m.utterance_id) for m in self.rt.received if m.type == "final_asr"}
        self.tally.errors += [m.code for m in self.rt.received if m.type == "error"]

    async def drop_and_resume(self) -> None:
        self.tally.drops += 1
        self.rt.ws.transport.abort()
        await asyncio.sleep(self.rng.uniform(0.0, 0.3))
        old = self.rt
        self._harvest()
        self.rt = await self.client.resume(old.session_id, next_seq=old.next_seq,
                                           last_event_id=old.last_event_id).connect()
        self.tally.resumes += 1
        last = self.rt.created.last_seq if self.rt.created.last_seq is not None else -1
        for seq, kind, payload in [p for p in self.pending if p[0] > last]:
            if kind == "text":
                await self.rt.send_text(payload[0], final=payload[1], seq=seq)
            else:
                await self.rt.send_audio(payload, seq=seq)
        self.pending = []

    async def send_text(self, word: str, final: bool) -> None:
        seq = await self.rt.send_text(word, final=final)
        self.pending.append((seq, "text", (word, final)))

    async def send_audio(self, pcm: bytes) -> None:
        seq = await self.rt.send_audio(pcm)
        if seq is not None:
            self.pending.append((seq, "audio", pcm))

    async def settle(self) -> None:
        """Wait until the server acknowledged every pending input (then they are owed)."""
        acked: set[int] = set()
        deadline = time.monotonic() + 300  # a busy server acks late (input backpressure), not never
        want = {p[0] for p in self.pending}
        while not want <= acked and time.monotonic() < deadline:
            msg = await self.rt.recv(timeout_s=max(1.0, deadline - time.monotonic()))
            if msg.type == "ack":
                acked.add(msg.seq)
        self.pending = []

    async def finish(self) -> None:
        await self.rt.end(timeout_s=600)
        self._harvest()


async def _text_soak(url: str, sentences: list[str], deadline: float, rng: random.Random,
                     direction: tuple[str, str], word_delay_s: float = WORD_DELAY_S) -> SoakTally:
    from rtt.client import RttClient

    tally = SoakTally()
    try:
        async with RttClient(url, timeout_s=120) as client:
            stream = _Resumable(client, tally, rng, source_lang=direction[0], target_lang=direction[1])
            await stream.open()
            i = rng.randrange(len(sentences))
            while time.monotonic() < deadline:
                words = sentences[i % len(sentences)].split()
                i += 1
                for k, w in enumerate(words):
                    await stream.send_text(w, final=k == len(words) - 1)
                    await asyncio.sleep(word_delay_s)
                if rng.random() < DROP_P:
                    await stream.drop_and_resume()  # right after the last word: the hard case
                await stream.settle()
                tally.owed += 1
            await stream.finish()
    except Exception as exc:  # noqa: BLE001 - counted, the soak goes on
        tally.errors.append(type(exc).__name__)
    return tally


async def _speech_soak(url: str, clips: list[bytes], deadline: float, rng: random.Random,
                       direction: tuple[str, str]) -> SoakTally:
    from rtt.client import RttClient

    tally = SoakTally()
    frame = PIPELINE_RATE * 2 * FRAME_MS // 1000
    try:
        async with RttClient(url, timeout_s=120) as client:
            while time.monotonic() < deadline:
                pcm = clips[rng.randrange(len(clips))]
                stream = _Resumable(client, tally, rng, source_lang=direction[0], target_lang=direction[1])
                await stream.open()
                drop_at = rng.randrange(len(pcm) // frame) if rng.random() < 0.5 else -1
                t0 = time.perf_counter()
                for n, off in enumerate(range(0, len(pcm), frame)):
                    await stream.send_audio(pcm[off:off + frame])
                    if n == drop_at:
                        await stream.drop_and_resume()
                    await asyncio.sleep(max(0.0, t0 + (n + 1) * FRAME_MS / 1000 - time.perf_counter()))
                await stream.settle()
                await stream.finish()
            # One final translation is owed per utterance the recognizer finished.
            tally.owed = len(tally.heard)
    except Exception as exc:  # noqa: BLE001
        tally.errors.append(type(exc).__name__)
    return tally


async def _churn(url: str, n: int) -> float:
    """``n`` short text sessions one after another; returns wall seconds."""
    from rtt.client import RttClient

    t0 = time.perf_counter()
    async with RttClient(url, timeout_s=60) as client:
        for _ in range(n):
            async with client.realtime(source_lang="es", target_lang="en") as rt:
                await rt.send_text("Hola a todos.", final=True)
                await rt.wait_for("final_translation")
                await rt.end()
    return time.perf_counter() - t0


async def _soak(url: str, pid: int | None, minutes: float, text_sessions: int, speech_sessions: int,
                seed: int, word_delay_s: float = WORD_DELAY_S) -> dict[str, Any]:
    rng = random.Random(seed)
    memory: list[dict[str, Any]] = []
    t_start = time.monotonic()

    def sample(label: str) -> dict[str, Any]:
        row = {"label": label, "t_s": round(time.monotonic() - t_start, 1), **(rss_mb(pid) if pid else {})}
        memory.append(row)
        return row

    es = paired("tatoeba", "es", "en")
    sentences = [s for s in es.sources if 4 <= len(s.split()) <= 12]
    clips = [_pcm16k(c.audio) + b"\x00\x00" * PIPELINE_RATE for c in fleurs_clips("es")]
    await _churn(url, 5)  # warm-up: first-call allocations are not a per-session cost
    churn_before = sample("before 100 sessions")
    churn_s = await _churn(url, 100)
    churn_after = sample("after 100 sessions")
    deadline = time.monotonic() + minutes * 60

    async def sampler() -> None:
        while time.monotonic() < deadline:
            await asyncio.sleep(min(15.0, max(1.0, minutes * 60 / 8)))
            sample("soak")

    sampler_task = asyncio.create_task(sampler())
    jobs = [_text_soak(url, sentences, deadline, random.Random(rng.random()), ("es", "en"), word_delay_s)
            for _ in range(text_sessions)]
    jobs += [_speech_soak(url, clips, deadline, random.Random(rng.random()), ("es", "en"))
             for _ in range(speech_sessions)]
    tallies = await asyncio.gather(*jobs)
    sampler_task.cancel()
    end = sample("end of soak")
    churn_end_before = end
    await _churn(url, 100)
    churn_end_after = sample("after 100 more sessions")

    def total(kind: str, part: list[SoakTally]) -> dict[str, Any]:
        errors = Counter(e for t in part for e in t.errors)
        return {"kind": kind, "sessions": len(part), "finals_owed": sum(t.owed for t in part),
                "finals_received": sum(len(set(t.received)) for t in part),
                "lost": sum(t.lost for t in part), "duplicated": sum(t.duplicates for t in part),
                "drops": sum(t.drops for t in part), "resumes": sum(t.resumes for t in part),
                "errors": dict(errors)}

    rows = [total("text", tallies[:text_sessions]), total("speech", tallies[text_sessions:])]
    mid = memory[len(memory) // 2]
    return {
        "rows": rows,
        "memory": memory,
        "rss_mb": {"start": churn_after.get("VmRSS"), "middle": mid.get("VmRSS"), "end": end.get("VmRSS")},
        "rss_per_100_sessions_mb": {
            "before_soak": _delta(churn_before, churn_after), "after_soak": _delta(churn_end_before, churn_end_after)},
        "churn_100_sessions_s": round(churn_s, 1),
    }


def _delta(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    if a.get("VmRSS") is None or b.get("VmRSS") is None:
        return None
    return round(float(b["VmRSS"]) - float(a["VmRSS"]), 1)


def run_soak(minutes: float, out_path: Path | str = DEFAULT_OUT, config_path: Path | str | None = None,
             text_sessions: int = 64, speech_sessions: int = 4, url: str | None = None,
             seed: int = 0, word_delay_s: float = WORD_DELAY_S) -> dict[str, Any]:
    out_path = Path(out_path)
    server = None if url else ServerProcess(Path(config_path) if config_path else None)
    report: dict[str, Any] = {
        "benchmark": "serve-soak", "machine": machine(), "config": str(config_path or DEFAULT_CONFIG_PATH),
        "settings": {"minutes": minutes, "text_sessions": text_sessions, "speech_sessions": speech_sessions,
                     "drop_probability_per_sentence": DROP_P, "speech_drop_probability_per_clip": 0.5,
                     "seed": seed, "text_data": f"Tatoeba es->en, 4-12 words, {WORD_DELAY_S * 1000:.0f} ms a word",
                     "speech_data": "FLEURS es clips, real time", "transport": "WebSocket, loopback"},
        "load_average_before": __import__("os").getloadavg(),
    }
    try:
        if server is not None:
            server.start()
        target = url or (server.url if server else "")
        pid = server.proc.pid if server is not None and server.proc is not None else None
        report.update(asyncio.run(_soak(target, pid, minutes, text_sessions, speech_sessions, seed, word_delay_s)))
        if server is not None and server.proc is not None:
            report["server_alive_after"] = server.proc.poll() is None
    finally:
        if server is not None:
            report["server_exit_code"] = server.stop()
    report["load_average_after"] = __import__("os").getloadavg()
    report["nothing_lost"] = all(r["lost"] == 0 and r["duplicated"] == 0 for r in report.get("rows", []))
    write_json(out_path, report)
    out_path.with_suffix(".md").write_text(markdown(report), encoding="utf-8")
    return report


def markdown(report: dict[str, Any]) -> str:
    s = report["settings"]
    lines = [
        "# Soak: sessions with abrupt drops and resumes",
        "",
        f"Generated by `rtt bench serve --soak {s['minutes']:g}` from `{Path(str(report.get('config'))).name}`: "
        f"{s['text_sessions']} text sessions ({s['text_data']}) and {s['speech_sessions']} speech sessions "
        f"({s['speech_data']}) at once for {s['minutes']:g} minutes; a text session aborts its TCP connection right after a "
        f"sentence's last word with probability {s['drop_probability_per_sentence']}, a speech session once mid-clip "
        f"with probability {s['speech_drop_probability_per_clip']}, then resumes with `session_id`, "
        "`last_event_id` and re-sends after `last_seq`.",
        "",
        "| kind | sessions | finals owed | received | lost | duplicated | drops | resumes | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.get("rows", []):
        errors = ", ".join(f"{k}×{v}" for k, v in r["errors"].items()) or "0"
        lines.append(f"| {r['kind']} | {r['sessions']} | {r['finals_owed']} | {r['finals_received']} | {r['lost']} | "
                     f"{r['duplicated']} | {r['drops']} | {r['resumes']} | {errors} |")
    rss = report.get("rss_mb", {})
    per100 = report.get("rss_per_100_sessions_mb", {})
    lines += [
        "",
        f"Server RSS (MB): start {rss.get('start')}, middle {rss.get('middle')}, end {rss.get('end')}.",
        f"RSS per 100 short sessions run back to back (MB): {per100.get('before_soak')} before the soak, "
        f"{per100.get('after_soak')} after it.",
        "",
        f"Nothing lost or duplicated: **{report.get('nothing_lost')}**. Machine: {report['machine'].get('processor', '')}, "
        f"{report['machine'].get('cpu_count', '')} cores, {report['machine'].get('date', '')}.",
        "",
    ]
    return "\n".join(lines)
