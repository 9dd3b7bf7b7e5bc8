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


def _catalogue_tier(args: argparse.Namespace, curated):
    """The imported catalogue's searcher beside ``curated`` (sharing its embedder), prepared; None if none imported."""
    from .store import Catalogue

    catalogue = Catalogue.load(_dir(args))
    if catalogue is None:
        return None
    from .search import CatalogueSearcher

    return CatalogueSearcher(catalogue, curated.embedder, faiss_kind=curated.cfg.faiss_kind).prepare()


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


def cmd_tiers(args: argparse.Namespace, out: TextIO) -> int:
    """Curated dev files through both tiers: who answered, and whether right, with and without the catalogue."""
    from ..config import load_config
    from ..search import Searcher
    from .evaluate import load_nulls, same_procedure
    from .tiers import CATALOGUE_KEY_PREFIX, search_tiers

    cfg = load_config(model=getattr(args, "model", None), backend=getattr(args, "backend", None))
    curated = Searcher(cfg).prepare()
    cat = _catalogue_tier(args, curated)
    judged = {(it.style, it.q): it.acceptable for it in load_nulls([Path(f) for f in args.files],
                                                                   Path(args.judgements))}
    head = (f"{'file':<24}{'n':>5}{'curated right':>15}{'curated wrong':>15}{'cat. right':>12}{'cat. wrong':>12}"
            f"{'cat. asked':>12}{'declined':>10}{'misleading':>12}")
    out.write(head + "\n" + "-" * len(head) + "\n")
    for f in args.files:
        rows = [json.loads(x) for x in Path(f).read_text(encoding="utf-8").splitlines() if x.strip()]
        for use_cat in ((False, True) if cat is not None else (False,)):
            c = {"cr": 0, "cw": 0, "kr": 0, "kw": 0, "ka": 0, "d": 0}
            for row in rows:
                q, exp = row.get("q") or row.get("question"), row.get("expected")
                t = search_tiers(curated, cat if use_cat else None, q)
                if t.tier == "curated" or (t.tier == "catalogue" and t.curated_key):
                    c["cr" if t.key == exp else "cw"] += 1
                elif t.tier == "catalogue" and t.catalogue.ambiguous:
                    c["ka"] += 1
                elif t.tier == "catalogue":
                    ok = not exp and t.catalogue.top.id in judged.get((row.get("kind", ""), q), [])
                    c["kr" if ok else "kw"] += 1
                else:
                    c["d"] += 1
            n = len(rows)
            label = Path(f).name + (" +cat" if use_cat else "")
            out.write(f"{label:<24}{n:>5}{c['cr']:>15}{c['cw']:>15}{c['kr']:>12}{c['kw']:>12}{c['ka']:>12}"
                      f"{c['d']:>10}{(c['cw'] + c['kw']) / max(n, 1):>12.3f}\n")
    out.write("curated wrong = answered by the curated tier with another key (or any key when null expected); "
              "cat. right = a catalogue record judged right (bench/data/catalogue_judgements.jsonl); cat. asked = "
              "\"which of these?\" buttons; misleading = (curated wrong + cat. wrong) / n\n")
    return 0


def search_with_catalogue(curated, questions, args: argparse.Namespace, out: TextIO) -> int:
    """`knowledge search --catalogue`: curated first, the catalogue on decline; JSON or the composed answer."""
    from ..cli_output import write_answer
    from ..compose import respond
    from .answer import compose_record, compose_which
    from .tiers import search_tiers

    cat = _catalogue_tier(args, curated)
    if cat is None:
        print(f"search: no catalogue imported in {_dir(args)}; curated guidance only", file=sys.stderr)
    for q in questions:
        t = search_tiers(curated, cat, q, k=args.k)
        found = t.catalogue
        if args.json:
            row = t.curated.to_json(verbose=args.verbose)
            row["tier"], row["key"] = t.tier, t.key
            if found is not None:
                row["catalogue"] = {"declined": found.declined, "ambiguous": found.ambiguous,
                                    "coverage": round(found.coverage, 3), "reason": found.reason,
                                    "results": [{"id": h.id, "name": h.name, "score": round(h.score, 3)}
                                                for h in found.results]}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            out.flush()
            continue
        if t.tier == "catalogue" and t.curated_key:
            from ..compose import compose

            answer = compose(curated.kb.procedures[t.curated_key], t.curated.aspect)
        elif t.tier == "catalogue" and found.ambiguous:
            answer = compose_which(found.candidates(), t.curated.aspect)
        elif t.tier == "catalogue":
            answer = compose_record(cat.catalogue.get(found.top.id), t.curated.aspect)
        else:
            answer = respond(t.curated, curated.kb.procedures)
        write_answer(out, answer, q if len(questions) > 1 else None)
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
    p = sub.add_parser("eval-tiers", parents=[common, cat],
                       help="curated dev files through curated + catalogue: who answers, right or wrong")
    p.add_argument("files", nargs="+", help="JSONL files of {q or question, expected}")
    p.add_argument("--judgements", default="bench/data/catalogue_judgements.jsonl")
    p.set_defaults(func=cmd_tiers)
    p = sub.add_parser("catalogue-show", parents=[common, cat], help="print one parsed catalogue record")
    p.add_argument("id", help="record id (the national code)")
    p.set_defaults(func=cmd_show)
