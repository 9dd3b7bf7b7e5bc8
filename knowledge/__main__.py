"""Command line of the knowledge search: ``python -m knowledge --help`` (run from the repository root)."""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from pathlib import Path
from typing import Iterator, List, Optional, TextIO

from .config import BACKENDS, MODES, Config, load_config

log = logging.getLogger("knowledge")


def _config(args: argparse.Namespace) -> Config:
    """Environment configuration plus command-line overrides."""
    return load_config(model=getattr(args, "model", None), backend=getattr(args, "backend", None),
                       kb_dir=getattr(args, "kb_dir", None),
                       index_dir=getattr(args, "index_dir", None), faiss_kind=getattr(args, "faiss", None),
                       mode=getattr(args, "mode", None))


def _searcher(cfg: Config):
    from .search import Searcher

    return Searcher(cfg)


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[TextIO]:
    """Send anything libraries print to stderr; yields the real stdout for the command's own output."""
    real = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        yield real


# ----------------------------------------------------------------------------------------------- commands
def cmd_search(args: argparse.Namespace, out: TextIO) -> int:
    """Answer questions (JSON or the composed answer)."""
    from .cli_output import write_answer
    from .compose import respond

    cfg = _config(args)
    if args.batch:
        source = sys.stdin if args.batch == "-" else open(args.batch, encoding="utf-8")
        with source:
            questions = [line.strip() for line in source if line.strip()]
    else:
        questions = [" ".join(args.question).strip()]
        if not questions[0]:
            print("search: give a question or --batch FILE", file=sys.stderr)
            return 2
    searcher = _searcher(cfg).prepare(cfg.mode)
    if getattr(args, "catalogue", False):
        from .catalogue.cli import search_with_catalogue

        return search_with_catalogue(searcher, questions, args, out)
    for q in questions:
        result = searcher.search(q, k=args.k, mode=cfg.mode)
        if args.json:
            out.write(json.dumps(result.to_json(verbose=args.verbose), ensure_ascii=False) + "\n")
            out.flush()
            continue
        note = (f"(aspect={result.aspect} declined={result.declined} {result.decline_reason} "
                f"results={[(h.key, round(h.score, 3)) for h in result.results]})") if args.verbose else None
        write_answer(out, respond(result, searcher.kb.procedures), q if len(questions) > 1 else None, note)
    return 0


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    """Check every knowledge file against the schema."""
    from .schema import validate

    cfg = _config(args)
    errors = validate(cfg.kb_dir)
    if errors:
        for e in errors:
            out.write(e + "\n")
        print(f"{len(errors)} problem(s) found", file=sys.stderr)
        return 1
    from .schema import load_knowledge_base

    kb = load_knowledge_base(cfg.kb_dir)
    out.write(f"ok: {len(kb.procedures)} procedures, {len(kb.offices)} offices, {len(kb.holidays)} holidays\n")
    return 0


def cmd_build(args: argparse.Namespace, out: TextIO) -> int:
    """Build or refresh the dense index (only changed chunks are embedded)."""
    cfg = _config(args)
    searcher = _searcher(cfg)
    if searcher.kb.errors:
        print(f"warning: {len(searcher.kb.errors)} validation problem(s); run `python -m knowledge validate`",
              file=sys.stderr)
    index = searcher.dense_index(rebuild=args.rebuild, allow_model_change=True)
    stats = searcher.build_stats
    if stats is None:
        out.write(f"index up to date: {len(index.chunks)} chunks, model {index.model}, dim {index.dimension}\n")
    else:
        out.write(f"index built in {cfg.index_dir}: {stats.summary()} (model {index.model}, "
                  f"dim {index.dimension}, {index.meta.get('faiss')})\n")
    return 0


def cmd_eval(args: argparse.Namespace, out: TextIO) -> int:
    """Evaluate retrieval, aspects and declines on a labelled JSONL file."""
    from .evaluate import evaluate, load_items, table

    if getattr(args, "catalogue", False):   # our catalogue questions: {q, expected national code}
        from .catalogue.cli import cmd_eval as catalogue_eval

        args.nulls, args.judgements = args.nulls or [], "bench/data/catalogue_judgements.jsonl"
        return catalogue_eval(args, out)
    cfg = _config(args)
    items = load_items(Path(args.file))
    modes = ["bm25", "dense", "hybrid"] if args.compare else [cfg.mode]
    if args.without_scope:
        modes = [m for mode in modes for m in (f"{mode}-noscope", mode)]
    metrics = evaluate(_searcher(cfg), items, modes)
    if args.json:
        out.write(json.dumps([{k: v for k, v in vars(m).items() if k != "failures" or args.failures}
                              for m in metrics], ensure_ascii=False, indent=1) + "\n")
        return 0
    out.write(table(metrics) + "\n")
    if args.failures:
        for m in metrics:
            out.write(f"\n{m.mode}: {len(m.failures)} question(s) with a wrong key, decline or aspect\n")
            for f in m.failures[: args.failures]:
                out.write(f"  expected={f['expected']} got={f['got']} declined={f['declined']} "
                          f"aspect={f['aspect']}/{f['expected_aspect']} | {f['q']}\n")
    return 0


def cmd_stats(args: argparse.Namespace, out: TextIO) -> int:
    """Counts of procedures, chunks, unconfirmed facts; index status."""
    from collections import Counter

    from .embeddings import Embedder
    from .index import DenseIndex, is_current

    cfg = _config(args)
    searcher = _searcher(cfg)
    kb = searcher.kb
    chunks = searcher.chunks
    kinds = Counter(c.kind for c in chunks)
    out.write(f"procedures: {len(kb.procedures)}   offices: {len(kb.offices)}   holidays: {len(kb.holidays)}   "
              f"validation problems: {len(kb.errors)}\n")
    out.write(f"chunks: {len(chunks)} (" + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) + ")\n")
    total = 0
    out.write(f"{'procedure':<24}{'aliases':>8}{'examples':>9}{'unconfirmed':>12}\n")
    for key, p in sorted(kb.procedures.items()):
        n = p.unconfirmed_count()
        total += n
        out.write(f"{key:<24}{len(p.aliases):>8}{len(p.examples):>9}{n:>12}\n")
    out.write(f"{'total':<24}{'':>8}{'':>9}{total:>12}\n")
    index = DenseIndex.load(cfg.index_dir, with_faiss=False)
    if index is None:
        out.write(f"index: missing in {cfg.index_dir}\n")
    else:
        current = is_current(index, chunks, Embedder.from_config(cfg), kb.version, cfg.faiss_kind)
        out.write(f"index: {len(index.chunks)} chunks, model {index.model}, dim {index.dimension}, "
                  f"{index.meta.get('faiss')}, built {index.meta.get('built_at')}, "
                  f"{'up to date' if current else 'STALE (rebuilt on next search or build)'}\n")
    return 0


def cmd_model(args: argparse.Namespace, out: TextIO) -> int:
    """Prepare the configured embedding model (converts the builtin e5 the first time)."""
    from .embeddings import Embedder
    from .model_files import BUILTIN_PREFIX, prepare_model

    cfg = _config(args)
    path = prepare_model(cfg.model, cfg.models_dir, force=args.force) if cfg.model.startswith(BUILTIN_PREFIX) \
        else cfg.model
    embedder = Embedder.from_config(cfg)
    out.write(f"model {cfg.model} ready at {path}, backend {cfg.backend} (dimension {embedder.dimension}, "
              f"prefixes {embedder.query_prefix!r} / {embedder.passage_prefix!r})\n")
    return 0


# ----------------------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--model", help="embedding model: sentence-transformers name or path, or "
                                        "builtin:multilingual-e5-small (default; env KB_EMBEDDING_MODEL)")
    common.add_argument("--backend", choices=BACKENDS,
                        help="embedding backend: onnx (default), onnx-int8 (int8 queries) or torch "
                             "(sentence-transformers); env KB_EMBEDDING_BACKEND")
    common.add_argument("--kb-dir", type=Path, help="knowledge folder (default: the package folder; env KB_DIR)")
    common.add_argument("--index-dir", type=Path, help="index folder (default: knowledge/index; env KB_INDEX_DIR)")
    common.add_argument("-v", "--verbose", action="store_true", help="more detail (logs on stderr)")

    parser = argparse.ArgumentParser(prog="python -m knowledge",
                                     description="Knowledge search of the one-stop office assistant.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("search", parents=[common], help="answer a question (or a file of questions)")
    p.add_argument("question", nargs="*", help="the citizen's question")
    p.add_argument("--json", action="store_true", help="print one JSON object per question on stdout")
    p.add_argument("--batch", metavar="FILE", help="one question per line ('-' = stdin); the model loads once")
    p.add_argument("--mode", choices=MODES, help="hybrid (default), bm25 or dense")
    p.add_argument("-k", type=int, default=5, help="number of results (default 5)")
    p.add_argument("--catalogue", action="store_true",
                   help="also the national catalogue tier when the curated guidance declines (import it first)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("validate", parents=[common], help="check the knowledge files; exit 1 on problems")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("build", parents=[common], help="build the search index incrementally")
    p.add_argument("--rebuild", action="store_true", help="re-embed every chunk")
    p.add_argument("--faiss", choices=("flat", "hnsw"), help="FAISS index kind (env KB_FAISS, default flat)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("eval", parents=[common], help="hit@1/3, MRR@5, aspect accuracy, decline P/R")
    p.add_argument("file", help="JSONL with q, expected (key or null), aspect")
    p.add_argument("--compare", action="store_true", help="BM25-only, dense-only and hybrid side by side")
    p.add_argument("--mode", choices=MODES, help="the mode to evaluate without --compare")
    p.add_argument("--without-scope", action="store_true",
                   help="also run each mode without the scope check (the old decline rule), side by side")
    p.add_argument("--failures", type=int, nargs="?", const=50, default=0, help="list up to N failures")
    p.add_argument("--json", action="store_true", help="metrics as JSON")
    p.add_argument("--catalogue", action="store_true",
                   help="FILE holds catalogue questions (expected = national code): score the catalogue tier")
    p.add_argument("--nulls", nargs="*", default=[], help="with --catalogue: files whose null questions it must "
                                                          "not answer")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("stats", parents=[common], help="counts of procedures, chunks and unconfirmed facts")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("model", parents=[common], help="prepare the embedding model (offline conversion)")
    p.add_argument("--force", action="store_true", help="convert again even if already prepared")
    p.set_defaults(func=cmd_model)

    from .catalogue.cli import add_parsers

    add_parsers(sub, common)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point: parse, configure logging on stderr, run the subcommand."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    from .model_files import quiet_libraries

    quiet_libraries()
    try:
        with _stdout_to_stderr() as out:
            return args.func(args, out)
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a clear one-line error instead of a traceback (use -v for details)
        from .index import IndexMismatchError

        if args.verbose and not isinstance(exc, IndexMismatchError):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
