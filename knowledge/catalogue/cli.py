"""Catalogue subcommands of ``python -m knowledge``: import-catalogue, build-catalogue, catalogue-eval."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO


def _searcher(args: argparse.Namespace, catalogue):
    from ..config import load_config
    from ..embeddings import Embedder
    from .search import CatalogueSearcher

    cfg = load_config(model=getattr(args, "model", None), backend=getattr(args, "backend", None))
    return CatalogueSearcher(catalogue, Embedder.from_config(cfg), faiss_kind=cfg.faiss_kind)


def _dir(args: argparse.Namespace) -> Path:
    from .store import catalogue_dir

    return Path(args.catalogue_dir) if getattr(args, "catalogue_dir", None) else catalogue_dir()


def cmd_import(args: argparse.Namespace, out: TextIO) -> int:
    """Parse a national export, store the catalogue tier and (unless --no-index) build its index."""
    from .store import Catalogue, import_records, save

    src = Path(args.file)
    if not src.exists():
        print(f"import-catalogue: no such file: {src}", file=sys.stderr)
        return 2
    records, report = import_records(src)
    if not records:
        print(f"import-catalogue: no record could be read from {src}", file=sys.stderr)
        return 1
    target = _dir(args)
    save(records, report, target)
    out.write(report.summary() + "\n")
    out.write(f"catalogue stored in {target} (version {report.version})\n")
    if not args.no_index:
        return cmd_build(args, out)
    return 0


def cmd_build(args: argparse.Namespace, out: TextIO) -> int:
    """Build or refresh the catalogue's dense index (only changed records are embedded)."""
    from .store import Catalogue

    catalogue = Catalogue.load(_dir(args))
    if catalogue is None:
        print(f"build-catalogue: nothing imported in {_dir(args)}; run import-catalogue FILE first",
              file=sys.stderr)
        return 1
    searcher = _searcher(args, catalogue)
    index = searcher.dense_index(rebuild=getattr(args, "rebuild", False))
    stats = searcher.build_stats
    if stats is None:
        out.write(f"catalogue index up to date: {len(index.chunks)} records\n")
    else:
        out.write(f"catalogue index built in {catalogue.index_dir}: {stats.summary()}\n")
    return 0


def cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    """Print one parsed record as JSON (staff debugging)."""
    from .store import Catalogue

    catalogue = Catalogue.load(_dir(args))
    rec = catalogue.get(args.id) if catalogue else None
    if rec is None:
        print(f"catalogue: no record {args.id!r}", file=sys.stderr)
        return 1
    out.write(json.dumps(rec.to_dict(), ensure_ascii=False, indent=1) + "\n")
    return 0


def cmd_eval(args: argparse.Namespace, out: TextIO) -> int:
    """hit@1/3 of BM25-only, dense-only and hybrid on our catalogue questions, plus answers to must-decline ones."""
    from .evaluate import evaluate, load_nulls, load_questions, table
    from .store import Catalogue

    catalogue = Catalogue.load(_dir(args))
    if catalogue is None:
        print(f"catalogue-eval: nothing imported in {_dir(args)}", file=sys.stderr)
        return 1
    searcher = _searcher(args, catalogue)
    items = load_questions(Path(args.file))
    nulls = load_nulls([Path(p) for p in args.nulls], Path(args.judgements) if args.judgements else None)
    modes = ["bm25", "dense", "hybrid"] if args.compare else ["hybrid"]
    metrics = evaluate(searcher, items, nulls, modes)
    out.write(table(metrics) + "\n")
    if args.failures:
        for m in metrics:
            out.write(f"\n{m.mode}: {len(m.failures)} failure(s)\n")
            for f in m.failures[: args.failures]:
                out.write(f"  expected={f['expected']} got={f['got']} declined={f['declined']} "
                          f"({f['reason']}) | {f['q']}\n")
    return 0


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    """Register the catalogue subcommands on ``sub``."""
    cat = argparse.ArgumentParser(add_help=False)
    cat.add_argument("--catalogue-dir", type=Path,
                     help="catalogue folder (default var/catalogue; env KB_CATALOGUE_DIR)")
    p = sub.add_parser("import-catalogue", parents=[common, cat],
                       help="import national procedure records (JSONL or JSONL.gz) as the catalogue tier")
    p.add_argument("file", help="the national export, e.g. ../shared/data/national-procedures/procedures.jsonl.gz")
    p.add_argument("--no-index", action="store_true", help="parse and store only; build the index later")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("build-catalogue", parents=[common, cat], help="build the catalogue index incrementally")
    p.add_argument("--rebuild", action="store_true", help="re-embed every record")
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("catalogue-eval", parents=[common, cat],
                       help="hit@1/3 on catalogue questions (BM25-only, dense-only, hybrid with --compare)")
    p.add_argument("file", nargs="?", default="bench/data/catalogue_questions.jsonl",
                   help="JSONL of {q, expected: national code} (default: bench/data/catalogue_questions.jsonl)")
    p.add_argument("--nulls", nargs="*", default=[],
                   help="JSONL files whose null-expected questions must not be answered by the catalogue")
    p.add_argument("--judgements", default="bench/data/catalogue_judgements.jsonl",
                   help="JSONL {file, line, acceptable} of catalogue records judged right for null questions")
    p.add_argument("--compare", action="store_true", help="BM25-only, dense-only and hybrid side by side")
    p.add_argument("--failures", type=int, nargs="?", const=60, default=0, help="list up to N failures")
    p.set_defaults(func=cmd_eval)
    p = sub.add_parser("catalogue-show", parents=[common, cat], help="print one parsed catalogue record")
    p.add_argument("id", help="record id (the national code)")
    p.set_defaults(func=cmd_show)
