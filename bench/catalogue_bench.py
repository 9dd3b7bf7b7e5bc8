"""Catalogue benchmark: the national catalogue (2,642 real records, real e5 vectors) beside the curated procedures.

Run from the repository root: `.venv/bin/python bench/catalogue_bench.py [--file ../shared/...jsonl.gz]`
(also `bench/knowledge_bench.py --catalogue`). It imports the national file into bench/out/catalogue (not
committed) unless it is already there and current, builds the index (progress on stderr; only changed records are
embedded), then measures on our own catalogue questions and the curated procedures' example questions:
- p50/p95 of one search, query embedding included: the curated search alone (baseline), the two tiers as the bot
  runs them (curated search, then the
  catalogue when the curated tier declines; the catalogue reuses the query vector), the catalogue alone (hybrid),
  and the catalogue BM25-only;
- index size on disk, resident memory added by loading the catalogue tier;
- incremental rebuild: nothing changed, one record changed.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Dict, List

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
NATIONAL = REPO.parent / "shared" / "data" / "national-procedures" / "procedures.jsonl.gz"
OUT = REPO / "bench" / "out" / "catalogue"


def pct(values: List[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def rss_mb() -> float:
    """Current resident memory of this process (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def folder_mb(path: Path) -> float:
    """Size of the files under ``path`` (MB)."""
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 1e6


def run(national: Path = NATIONAL, out: Path = OUT, n_examples: int = 100) -> Dict:
    """Every catalogue figure, as a dict."""
    from knowledge.catalogue.search import CatalogueSearcher
    from knowledge.catalogue.store import Catalogue, import_records, save
    from knowledge.catalogue.tiers import search_tiers
    from knowledge.config import load_config
    from knowledge.search import Searcher

    figures: Dict = {"file": str(national)}
    start = time.perf_counter()
    records, report = import_records(national)
    figures["import_s"] = time.perf_counter() - start
    figures["import"] = {"records": report.records, "parsed_fully": report.parsed_fully, "problems": report.problems}
    save(records, report, out)
    cfg = load_config()
    curated = Searcher(cfg).prepare("hybrid")
    before = rss_mb()
    start = time.perf_counter()
    cat = CatalogueSearcher(Catalogue.load(out), curated.embedder, faiss_kind=cfg.faiss_kind).prepare()
    figures["catalogue_ready_s"] = time.perf_counter() - start
    figures["build"] = cat.build_stats.summary() if cat.build_stats else "index up to date"
    figures["rss_curated_mb"], figures["rss_added_mb"] = before, rss_mb() - before
    figures["disk_mb"] = {"records": (out / "records.jsonl.gz").stat().st_size / 1e6,
                          "index": folder_mb(out / "index")}

    questions = [json.loads(x)["q"] for x in (REPO / "bench" / "data" / "catalogue_questions.jsonl")
                 .read_text(encoding="utf-8").splitlines() if x.strip()]
    examples = [e for p in curated.kb.procedures.values() for e in p.examples][:n_examples]
    timings: Dict[str, List[float]] = {"curated": [], "tiers": [], "catalogue_hybrid": [], "catalogue_bm25": []}
    # CPU time of this process per search: what a search costs when the shared cores are not busy elsewhere
    cpu: Dict[str, List[float]] = {k: [] for k in timings}
    answered = {"curated": 0, "catalogue": 0, "none": 0}
    for i, q in enumerate(questions + examples):
        variants = tuple(timings)
        for j in range(len(variants)):   # rotate the order so the machine's noise falls on every variant alike
            variant = variants[(i + j) % len(variants)]
            curated.embedder._last_query = None   # query embedding included in every timing
            t, c = time.perf_counter(), time.process_time()
            if variant == "curated":
                curated.search(q)
            elif variant == "tiers":
                answered[search_tiers(curated, cat, q).tier] += 1
            elif variant == "catalogue_hybrid":
                cat.search(q, mode="hybrid")
            else:
                cat.search(q, mode="bm25")
            timings[variant].append((time.perf_counter() - t) * 1000)
            cpu[variant].append((time.process_time() - c) * 1000)
    figures["queries"] = {"catalogue_questions": len(questions), "curated_examples": len(examples)}
    figures["answered_by"] = answered
    figures["latency_ms"] = {k: {"p50": pct(v, 0.5), "p95": pct(v, 0.95), "max": max(v)} for k, v in timings.items()}
    figures["cpu_ms"] = {k: {"p50": pct(v, 0.5), "p95": pct(v, 0.95)} for k, v in cpu.items()}
    figures["backend"] = cfg.backend
    figures["load_average"] = Path("/proc/loadavg").read_text().split()[:3]

    # incremental rebuild: unchanged, then one record renamed
    start = time.perf_counter()
    again = CatalogueSearcher(Catalogue.load(out), curated.embedder, faiss_kind=cfg.faiss_kind)
    again.dense_index()
    figures["rebuild_unchanged"] = {"seconds": time.perf_counter() - start,
                                    "stats": again.build_stats.summary() if again.build_stats else "up to date"}
    tmp = out.parent / "catalogue-edit"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(out, tmp)
    records[0].name += " (sửa thử)"
    save(records, report, tmp)
    start = time.perf_counter()
    edited = CatalogueSearcher(Catalogue.load(tmp), curated.embedder, faiss_kind=cfg.faiss_kind)
    edited.dense_index()
    figures["rebuild_one_changed"] = {"seconds": time.perf_counter() - start, "stats": edited.build_stats.summary()}
    shutil.rmtree(tmp, ignore_errors=True)
    return figures


def report_text(f: Dict) -> str:
    """Human-readable figures."""
    lat, cpu = f["latency_ms"], f["cpu_ms"]
    lines = [f"national file: {f['import']['records']} records imported in {f['import_s']:.1f} s "
             f"({f['import']['parsed_fully']} parsed fully)",
             f"catalogue tier ready in {f['catalogue_ready_s']:.1f} s ({f['build']})",
             f"disk: records {f['disk_mb']['records']:.1f} MB, index {f['disk_mb']['index']:.1f} MB; "
             f"memory: curated searcher {f['rss_curated_mb']:.0f} MB RSS, catalogue tier +{f['rss_added_mb']:.0f} MB",
             f"{f['queries']['catalogue_questions']} catalogue questions + {f['queries']['curated_examples']} curated "
             f"example questions; answered by {f['answered_by']}",
             f"backend {f['backend']}, load average at the end {' '.join(f['load_average'])}",
             f"{'search (query embedding included)':<48}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}"
             f"{'CPU p50':>9}{'CPU p95':>9}"]
    names = {"curated": "curated alone (baseline, no catalogue)",
             "tiers": "curated, then catalogue when declined (the bot)", "catalogue_hybrid": "catalogue alone, hybrid",
             "catalogue_bm25": "catalogue alone, BM25-only"}
    for k, name in names.items():
        lines.append(f"{name:<48}{lat[k]['p50']:>8.1f}{lat[k]['p95']:>8.1f}{lat[k]['max']:>8.1f}"
                     f"{cpu[k]['p50']:>9.1f}{cpu[k]['p95']:>9.1f}")
    lines.append(f"rebuild, nothing changed: {f['rebuild_unchanged']['seconds']:.2f} s "
                 f"({f['rebuild_unchanged']['stats']})")
    lines.append(f"rebuild, one record changed: {f['rebuild_one_changed']['seconds']:.2f} s "
                 f"({f['rebuild_one_changed']['stats']})")
    return "\n".join(lines)


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=NATIONAL, help="the national export (default ../shared/...)")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    args = parser.parse_args()
    if not args.file.exists():
        print(f"catalogue bench: {args.file} not found (the national file lives in ../shared)", file=sys.stderr)
        return 2
    from knowledge.embeddings import quiet_libraries

    quiet_libraries()
    figures = run(args.file)
    print(json.dumps(figures, ensure_ascii=False, indent=1) if args.json else report_text(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
