"""Dense index: persistence, incremental rebuilds, model mismatch."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from knowledge.chunks import build_chunks
from knowledge.index import DenseIndex, IndexMismatchError, ensure_index
from knowledge.schema import load_knowledge_base

from .conftest import SMALL_KB, FakeEmbedder, procedure, write_kb


def _build(kb_dir: Path, index_dir: Path, embedder, **kw):
    kb = load_knowledge_base(kb_dir)
    chunks = build_chunks(kb.procedures)
    return ensure_index(index_dir, chunks, embedder, kb_version=kb.version, **kw), chunks


def test_build_persists_metadata_and_vectors(small_kb: Path, tmp_path: Path):
    embedder = FakeEmbedder()
    (index, stats), chunks = _build(small_kb, tmp_path / "index", embedder)
    assert stats.embedded == len(chunks) and stats.reused == 0
    meta = json.loads((tmp_path / "index" / "meta.json").read_text())
    assert meta["model"] == "fake-model" and meta["dimension"] == 16
    assert meta["query_prefix"] == "query: " and meta["passage_prefix"] == "passage: "
    assert len(meta["hashes"]) == len(chunks) and meta["kb_version"]
    loaded = DenseIndex.load(tmp_path / "index")
    assert np.allclose(loaded.vectors, index.vectors)
    assert [c.id for c in loaded.chunks] == [c.id for c in chunks]
    scores, ids = loaded.search(loaded.vectors[3], 2)
    assert ids[0] == 3 and scores[0] == pytest.approx(1.0, abs=1e-5)


def test_unchanged_kb_is_not_rebuilt(small_kb: Path, tmp_path: Path):
    _build(small_kb, tmp_path / "index", FakeEmbedder())
    embedder = FakeEmbedder()
    (_, stats), _ = _build(small_kb, tmp_path / "index", embedder)
    assert stats is None and embedder.embedded == []


def test_changing_one_procedure_reembeds_only_its_changed_chunks(small_kb: Path, tmp_path: Path):
    _build(small_kb, tmp_path / "index", FakeEmbedder())
    changed = dict(SMALL_KB["ket_hon"], fees={"status": "sourced", "text": "Miễn lệ phí kết hôn trong nước."})
    write_kb(small_kb, {"ket_hon": procedure("ket_hon", **changed)})
    embedder = FakeEmbedder()
    (index, stats), chunks = _build(small_kb, tmp_path / "index", embedder)
    assert stats.embedded == 1 and len(embedder.embedded) == 1
    assert "Miễn lệ phí kết hôn trong nước" in embedder.embedded[0]
    assert stats.reused == len(chunks) - 1
    # the new vector is in place and the others were reused as they were
    pos = [c.id for c in chunks].index("ket_hon#fee")
    assert np.allclose(index.vectors[pos], embedder._vec(chunks[pos].text))


def test_adding_and_removing_procedures(small_kb: Path, tmp_path: Path):
    _build(small_kb, tmp_path / "index", FakeEmbedder())
    (small_kb / "procedures" / "ho_chieu.yml").unlink()
    embedder = FakeEmbedder()
    (index, stats), chunks = _build(small_kb, tmp_path / "index", embedder)
    assert stats.embedded == 0 and stats.removed > 0
    assert all(c.key != "ho_chieu" for c in index.chunks)


def test_index_from_another_model_raises_mismatch(small_kb: Path, tmp_path: Path):
    _build(small_kb, tmp_path / "index", FakeEmbedder("model-a", 16))
    with pytest.raises(IndexMismatchError) as err:
        _build(small_kb, tmp_path / "index", FakeEmbedder("model-b", 16))
    assert "model-a" in str(err.value) and "model-b" in str(err.value)


def test_index_with_another_dimension_raises_mismatch(small_kb: Path, tmp_path: Path):
    _build(small_kb, tmp_path / "index", FakeEmbedder("model-a", 16))
    with pytest.raises(IndexMismatchError) as err:
        _build(small_kb, tmp_path / "index", FakeEmbedder("model-a", 32))
    assert "dimension 16" in str(err.value) and "dimension 32" in str(err.value)


def test_build_may_switch_models_explicitly(small_kb: Path, tmp_path: Path):
    _build(small_kb, tmp_path / "index", FakeEmbedder("model-a", 16))
    embedder = FakeEmbedder("model-b", 8)
    (index, stats), chunks = _build(small_kb, tmp_path / "index", embedder, allow_model_change=True)
    assert stats.rebuilt and stats.embedded == len(chunks) and index.dimension == 8


def test_hnsw_index(small_kb: Path, tmp_path: Path):
    (index, _), _ = _build(small_kb, tmp_path / "index", FakeEmbedder(), faiss_kind="hnsw")
    assert DenseIndex.load(tmp_path / "index").meta["faiss"] == "hnsw"
    _, ids = index.search(index.vectors[5], 1)
    assert ids[0] == 5
