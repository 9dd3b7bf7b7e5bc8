"""Knowledge search benchmark: query latency on the real KB, and Flat vs HNSW on a synthetic 5,000-procedure KB.

Run from the repository root: `.venv/bin/python bench/knowledge_bench.py [--queries N] [--procedures N]`.

1. Real knowledge base: p50/p95 latency of one search on the procedures' own example questions: BM25-only, and for
   each embedding backend (torch, onnx, onnx-int8) hybrid and dense-only (query embedding included) and the query
   embedding alone; for the first backend also hybrid without the scope check (its cost). Every variant runs on each question in turn, in a rotating order, so that the machine's noise
   falls on all of them alike.
2. Synthetic knowledge base: 5,000 procedures x 10 chunks = 50,000 vectors. The vectors are SYNTHESIZED, not
   embedded: each is a real chunk vector of the current index plus Gaussian noise, re-normalised (embedding 50k texts
   would take about an hour on this CPU and measure the model, not the index). Queries are real e5 query vectors
   of the example questions, perturbed the same way. For exact IndexFlatIP and HNSW32 (efSearch 64) it measures
   build time, single-query search p50/p95 (k=5 and k=100, FAISS on one OpenMP thread), peak memory (each variant
   in its own process: VmHWM) and HNSW recall@5 against Flat.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def pct(values: List[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def vm_hwm_mb() -> float:
    """Peak resident memory of this process (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ----------------------------------------------------------------------------------------------- part 1
def real_kb(n_queries: int, backends: Sequence[str]) -> Tuple[Dict, np.ndarray, np.ndarray]:
    """Latency of BM25-only and, per backend, hybrid / dense-only searches and query embedding, interleaved."""
    from knowledge.config import load_config
    from knowledge.search import Searcher

    cfg = load_config()
    searchers = {}
    out: Dict = {"backends": {}}
    for backend in backends:  # in this order: the first also pays for the imports they share
        start = time.perf_counter()
        searchers[backend] = Searcher(cfg.with_(backend=backend)).prepare("hybrid")
        out["backends"][backend] = {"startup_s": time.perf_counter() - start}
    first = searchers[backends[0]]
    questions = [e for p in first.kb.procedures.values() for e in p.examples][:n_queries]
    out.update(procedures=len(first.kb.procedures), chunks=len(first.chunks), queries=len(questions))
    for searcher in searchers.values():
        for q in questions[:5]:  # warm-up (first calls of a new input length are slow in PyTorch)
            searcher.search(q, mode="hybrid")

    def timed(run: Callable[[str], object]) -> Callable[[str], float]:
        def call(q: str) -> float:
            t = time.perf_counter()
            run(q)
            return (time.perf_counter() - t) * 1000
        return call

    variants: Dict[Tuple[str, str], Callable[[str], float]] = {("bm25", ""): timed(
        lambda q: first.search(q, mode="bm25"))}
    for backend, searcher in searchers.items():
        for mode in ("hybrid", "dense"):
            variants[(mode, backend)] = timed(lambda q, s=searcher, m=mode: s.search(q, mode=m))
        variants[("embed", backend)] = timed(searcher.embedder.embed_query)
    # the same search without the scope check (issue 14): its cost, side by side
    variants[("hybrid_noscope", backends[0])] = timed(lambda q: first.search(q, mode="hybrid", scope_check=False))
    keys = list(variants)
    times: Dict[Tuple[str, str], List[float]] = {k: [] for k in keys}
    for i, q in enumerate(questions):
        for k in keys[i % len(keys):] + keys[:i % len(keys)]:
            times[k].append(variants[k](q))
    for (kind, backend), ts in times.items():
        stats = {"p50": pct(ts, 0.5), "p95": pct(ts, 0.95), "mean": float(np.mean(ts))}
        if backend:
            out["backends"][backend][kind] = stats
        else:
            out[kind] = stats
    vecs = first.embedder.embed_queries(questions)
    return out, first.dense_index().vectors, vecs


# ----------------------------------------------------------------------------------------------- part 2
def synthesize(base: np.ndarray, n: int, noise: float, seed: int) -> np.ndarray:
    """``n`` unit vectors: random rows of ``base`` plus Gaussian noise of relative size ``noise``."""
    rng = np.random.default_rng(seed)
    rows = base[rng.integers(0, len(base), n)]
    out = rows + rng.standard_normal(rows.shape).astype(np.float32) * (noise / np.sqrt(base.shape[1]))
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)


def worker(kind: str, data: Path, k_values: List[int]) -> Dict:
    """Build one FAISS index over the synthetic vectors and time single-query searches (runs in a child)."""
    import faiss

    from knowledge.index import make_faiss

    faiss.omp_set_num_threads(1)
    vectors = np.load(data / "vectors.npy")
    queries = np.load(data / "queries.npy")
    before = vm_hwm_mb()
    t = time.perf_counter()
    index = make_faiss(vectors, kind)
    build = time.perf_counter() - t
    peak = vm_hwm_mb()
    out = {"kind": kind, "build_s": build, "peak_rss_mb": peak, "rss_before_build_mb": before,
           "index_mb": len(faiss.serialize_index(index)) / 1e6}
    for k in k_values:
        times, ids = [], []
        for q in queries:
            t = time.perf_counter()
            _, found = index.search(q.reshape(1, -1), k)
            times.append((time.perf_counter() - t) * 1000)
            ids.append(found[0][:5].tolist())
        out[f"k{k}"] = {"p50": pct(times, 0.5), "p95": pct(times, 0.95)}
        if k == 5:
            out["top5"] = ids
    return out


def synthetic(base: np.ndarray, queries: np.ndarray, n_procedures: int, chunks_per: int, tmp: Path) -> Dict:
    """Flat vs HNSW on n_procedures x chunks_per synthetic vectors, each variant in its own process."""
    tmp.mkdir(parents=True, exist_ok=True)
    n = n_procedures * chunks_per
    np.save(tmp / "vectors.npy", synthesize(base, n, noise=0.6, seed=1))
    np.save(tmp / "queries.npy", synthesize(queries, len(queries), noise=0.3, seed=2))
    results = {}
    for kind in ("flat", "hnsw"):
        proc = subprocess.run([sys.executable, __file__, "--worker", kind, "--data", str(tmp)],
                              capture_output=True, text=True, cwd=REPO)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
        results[kind] = json.loads(proc.stdout.strip().splitlines()[-1])
    flat, hnsw = results["flat"]["top5"], results["hnsw"]["top5"]
    recall = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(flat, hnsw)])
    for r in results.values():
        r.pop("top5")
    return {"vectors": n, "dim": int(base.shape[1]), "queries": len(queries), "recall5": float(recall), **results}


# ----------------------------------------------------------------------------------------------- report
def report(real: Dict, syn: Dict) -> str:
    """The results as plain-text tables."""
    lines = [f"Real knowledge base: {real['procedures']} procedures, {real['chunks']} chunks, "
             f"{real['queries']} example questions, all variants interleaved",
             f"{'search':<44}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}"]
    r = real["bm25"]
    lines.append(f"{'BM25-only':<44}{r['p50']:>10.2f}{r['p95']:>10.2f}{r['mean']:>10.2f}")
    for kind, label in (("hybrid", "hybrid (embedding incl.)"), ("hybrid_noscope", "hybrid, no scope check"),
                        ("dense", "dense-only (embedding incl.)"), ("embed", "query embedding alone")):
        for backend, b in real["backends"].items():
            if kind not in b:
                continue
            r = b[kind]
            lines.append(f"{label + ', ' + backend:<44}{r['p50']:>10.2f}{r['p95']:>10.2f}{r['mean']:>10.2f}")
    lines.append("(model + index ready in " + ", ".join(f"{backend} {b['startup_s']:.1f} s" for backend, b in
                                                        real["backends"].items()) + ", loaded in that order)")
    lines.append("")
    lines.append(f"Synthetic knowledge base: {syn['vectors']:,} chunk vectors (dim {syn['dim']}), "
                 f"{syn['queries']} queries; vectors synthesized from real ones + noise (not embedded)")
    lines.append(f"{'index':<10}{'build s':>9}{'k=5 p50':>9}{'k=5 p95':>9}{'k=100 p95':>10}{'index MB':>10}"
                 f"{'peak RSS MB':>12}{'recall@5':>10}")
    for kind, label in (("flat", "Flat"), ("hnsw", "HNSW32")):
        r = syn[kind]
        recall = "1.000" if kind == "flat" else f"{syn['recall5']:.3f}"
        lines.append(f"{label:<10}{r['build_s']:>9.2f}{r['k5']['p50']:>9.3f}{r['k5']['p95']:>9.3f}"
                     f"{r['k100']['p95']:>10.3f}{r['index_mb']:>10.1f}{r['peak_rss_mb']:>12.0f}{recall:>10}")
    lines.append("(search times in ms, one query at a time, FAISS on 1 OpenMP thread; peak RSS includes the "
                 f"worker's ~{syn['flat']['rss_before_build_mb']:.0f} MB of Python, numpy and the loaded vectors)")
    return "\n".join(lines)


def main() -> int:
    """Run both parts and print the tables (JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200, help="real-KB questions to time (default 200)")
    parser.add_argument("--procedures", type=int, default=5000, help="synthetic procedures (default 5000)")
    parser.add_argument("--chunks-per", type=int, default=10, help="chunks per synthetic procedure (default 10)")
    parser.add_argument("--backends", default="onnx,onnx-int8,torch",
                        help="embedding backends to compare, comma-separated (default onnx,onnx-int8,torch)")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    parser.add_argument("--catalogue", action="store_true",
                        help="only the national catalogue figures (bench/catalogue_bench.py: 2,642 real records)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.catalogue:
        from bench import catalogue_bench

        sys.argv = [sys.argv[0]] + (["--json"] if args.json else [])
        return catalogue_bench.main()
    if args.worker:
        print(json.dumps(worker(args.worker, args.data, [5, 100])))
        return 0
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    real, chunk_vectors, query_vectors = real_kb(args.queries, [b.strip() for b in args.backends.split(",")])
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        syn = synthetic(chunk_vectors, query_vectors, args.procedures, args.chunks_per, Path(tmp))
    if args.json:
        print(json.dumps({"real": real, "synthetic": syn}, indent=1))
    else:
        print(report(real, syn))
    return 0


if __name__ == "__main__":
    sys.exit(main())
