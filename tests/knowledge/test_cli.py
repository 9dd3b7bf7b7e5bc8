"""The command line as the hidden evaluation uses it: `python -m knowledge ...` run from the repository root."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from knowledge.config import REPO_DIR
from knowledge.model_files import builtin_model_dir

from .conftest import procedure, write_kb


def run(*args: str, env: dict = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run the CLI in a subprocess from the repository root (configuration from the default environment)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    base["PYTHONPATH"] = str(REPO_DIR)
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "knowledge", *args], cwd=REPO_DIR, env=base,
                          capture_output=True, text=True, timeout=timeout)


def check_shape(obj: dict, query: str) -> None:
    assert set(obj) == {"query", "declined", "aspect", "results"}
    assert obj["query"] == query and isinstance(obj["declined"], bool)
    assert obj["aspect"] in {"documents", "fee", "time", "place", "steps", "online", "eligibility", "general"}
    assert 1 <= len(obj["results"]) <= 5
    for r in obj["results"]:
        assert set(r) == {"key", "name", "score"} and isinstance(r["score"], float)
    scores = [r["score"] for r in obj["results"]]
    assert scores == sorted(scores, reverse=True)


def test_help():
    out = run("--help")
    assert out.returncode == 0
    for command in ("search", "validate", "build", "eval", "stats", "model"):
        assert command in out.stdout


def test_search_json_prints_exactly_one_object(real_searcher):
    q = "làm giấy khai sinh cho con cần giấy tờ gì"
    out = run("search", "--json", q)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    check_shape(obj, q)
    assert obj["results"][0]["key"] == "khai_sinh" and obj["aspect"] == "documents" and not obj["declined"]


def test_search_batch_loads_once_and_prints_one_line_per_question(real_searcher, tmp_path: Path):
    questions = ["dang ky ket hon o dau", "xin visa đi Mỹ cần gì", "lam ho chieu mat bao lau"]
    (tmp_path / "q.txt").write_text("\n".join(questions) + "\n", encoding="utf-8")
    out = run("search", "--json", "--batch", str(tmp_path / "q.txt"))
    assert out.returncode == 0, out.stderr
    objs = [json.loads(line) for line in out.stdout.splitlines()]
    assert [o["query"] for o in objs] == questions
    for o, q in zip(objs, questions):
        check_shape(o, q)
    assert objs[0]["results"][0]["key"] == "ket_hon" and not objs[0]["declined"]
    assert objs[1]["declined"]
    assert objs[2]["results"][0]["key"] == "ho_chieu" and objs[2]["aspect"] == "time"


def test_search_json_stays_clean_while_the_onnx_model_is_exported(real_searcher, tmp_path: Path):
    # fresh models folder: the converted e5 (linked), no ONNX export yet; each backend exports on first use
    converted = builtin_model_dir("multilingual-e5-small", real_searcher.cfg.models_dir)
    models = tmp_path / "models"
    (models / converted.name).mkdir(parents=True)
    for item in converted.iterdir():
        if item.name != "onnx":
            (models / converted.name / item.name).symlink_to(item)
    q = "lệ phí làm hộ chiếu bao nhiêu"
    out = run("search", "--json", q, env={"KB_MODELS_DIR": str(models), "KB_EMBEDDING_BACKEND": "onnx"})
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == 1
    check_shape(json.loads(out.stdout), q)
    assert (models / converted.name / "onnx" / "model.onnx").exists()
    questions = ["dang ky ket hon o dau", "xin visa đi Mỹ cần gì"]
    (tmp_path / "q.txt").write_text("\n".join(questions) + "\n", encoding="utf-8")
    out = run("search", "--json", "--batch", str(tmp_path / "q.txt"),
              env={"KB_MODELS_DIR": str(models), "KB_EMBEDDING_BACKEND": "onnx-int8"})
    assert out.returncode == 0, out.stderr
    objs = [json.loads(line) for line in out.stdout.splitlines()]
    assert [o["query"] for o in objs] == questions
    assert objs[0]["results"][0]["key"] == "ket_hon" and objs[1]["declined"]
    assert (models / converted.name / "onnx" / "model-int8.onnx").exists()


def test_search_without_json_prints_the_composed_answer(real_searcher):
    out = run("search", "--mode", "bm25", "le phi dang ky ket hon")
    assert out.returncode == 0, out.stderr
    assert "Đăng ký kết hôn" in out.stdout and "http" in out.stdout
    assert not out.stdout.lstrip().startswith("{")


def test_validate_exit_codes(tmp_path: Path):
    good = write_kb(tmp_path / "good", {"khai_sinh": procedure()})
    out = run("validate", "--kb-dir", str(good))
    assert out.returncode == 0 and out.stdout.startswith("ok: 1 procedures")
    bad = write_kb(tmp_path / "bad", {"khai_sinh": procedure(aliases=["x"], related=["nope"])})
    out = run("validate", "--kb-dir", str(bad))
    assert out.returncode == 1
    assert "bad/procedures/khai_sinh.yml: aliases: needs at least 3 entries, has 1" in out.stdout
    assert "bad/procedures/khai_sinh.yml: related[0]: unknown procedure key 'nope'" in out.stdout


def test_eval_compare_and_stats(real_searcher, tmp_path: Path):
    rows = [{"q": "dang ky khai sinh o dau", "expected": "khai_sinh", "aspect": "place"},
            {"q": "giá xăng hôm nay bao nhiêu", "expected": None, "aspect": "fee"}]
    (tmp_path / "e.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = run("eval", str(tmp_path / "e.jsonl"), "--compare")
    assert out.returncode == 0, out.stderr
    assert "BM25-only" in out.stdout and "dense-only" in out.stdout and "hybrid" in out.stdout
    assert "hit@1" in out.stdout and "decline recall" in out.stdout
    out = run("stats")
    assert out.returncode == 0, out.stderr
    assert "procedures:" in out.stdout and "unconfirmed" in out.stdout and "up to date" in out.stdout


def test_model_mismatch_is_a_clear_error(real_searcher, minilm_path, tmp_path: Path):
    index_copy = tmp_path / "index"
    shutil.copytree(real_searcher.cfg.index_dir, index_copy)
    out = run("search", "--json", "khai sinh", env={"KB_EMBEDDING_MODEL": minilm_path,
                                                    "KB_INDEX_DIR": str(index_copy)})
    assert out.returncode == 1 and out.stdout == ""
    assert "builtin:multilingual-e5-small" in out.stderr and minilm_path in out.stderr
