"""Meaning: the encoder on the packaged model, the fusion maths, and search without the extra.

The encoder tests need the `semantic` extra and the packaged all-MiniLM-L6-v2 (`make install`
adds both); without them they skip, except under CI=true, where CI must run the semantic path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from search import semantic
from search.document import Document
from search.eval import main
from tests.search.test_eval import semeval_dir

ROOT = Path(__file__).resolve().parents[2]


def _need_model() -> Path:
    location = semantic.model_location() if semantic.available() else None
    if location is None:
        message = "the semantic extra or the packaged model is not installed (make install adds both)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return location


@pytest.fixture(scope="module")
def encoder() -> Any:
    _need_model()
    found = semantic.shared_encoder()
    assert found is not None
    return found


# --- the encoder -------------------------------------------------------------------------


def test_encode_gives_one_unit_row_per_text_the_same_each_time(encoder: Any) -> None:
    import numpy as np

    texts = ["Printer offline after the Windows update", "", "How do I reset my password?"]
    first = encoder.encode(texts)
    assert first.shape == (3, 384) and first.dtype == np.float32
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(first, encoder.encode(texts))  # deterministic
    # Batching and length grouping change nothing: a text alone encodes as it did in the batch.
    assert np.allclose(encoder.encode([texts[2]])[0], first[2], atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


def test_the_packaged_model_reproduces_the_published_similarity(encoder: Any) -> None:
    # sentence-transformers' quickstart gives these similarities for all-MiniLM-L6-v2.
    a, b, c = encoder.encode(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
    assert [float(a @ b), float(a @ c), float(b @ c)] == pytest.approx([0.6660, 0.1046, 0.1411], abs=5e-4)


def test_meaning_ranks_a_paraphrase_above_a_word_match(encoder: Any) -> None:
    q, para, words = encoder.encode(["my laptop will not turn on", "notebook does not power up",
                                     "turn on dark mode in the app"])
    assert float(q @ para) > float(q @ words)


def test_the_encoder_is_loaded_once_per_process() -> None:
    _need_model()
    assert semantic.shared_encoder() is semantic.shared_encoder()


def test_encode_bounds_blas_to_its_threads(encoder: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from threadpoolctl import threadpool_info

    from search.embedding import Encoder

    seen: list[int] = []
    forward = Encoder._forward

    def spy(self: Any, ids: Any, mask: Any) -> Any:
        seen.extend(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")
        return forward(self, ids, mask)

    monkeypatch.setattr(Encoder, "_forward", spy)
    encoder.encode(["one", "two"])
    assert seen and set(seen) == {encoder.threads} == {1}


def _copy_model(tmp_path: Path, manifest: dict[str, Any] | None) -> Path:
    import zipfile

    from search.embedding import packaged_model_path

    packaged = packaged_model_path()
    assert packaged is not None
    with zipfile.ZipFile(packaged) as archive:
        for name in ("config.json", "tokenizer.json", "model.safetensors"):
            (tmp_path / name).write_bytes(archive.read(name))
    if manifest is not None:
        (tmp_path / "MODEL.json").write_text(json.dumps(manifest), encoding="utf-8")
    return tmp_path


def _manifest(**sha: str) -> dict[str, Any]:
    from search.embedding import PACKAGED

    return {"name": "copy", "source": PACKAGED.source, "licence": PACKAGED.licence, "sha256": {**PACKAGED.sha256, **sha}}


def test_a_model_directory_with_its_manifest_loads(tmp_path: Path) -> None:
    _need_model()
    from search.embedding import load_encoder

    loaded = load_encoder(_copy_model(tmp_path, _manifest()), threads=1)
    assert loaded.manifest.licence == "Apache-2.0" and loaded.dim == 384


def test_a_checksum_mismatch_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    _need_model()
    from search.embedding import ModelChecksumError, load_encoder

    location = _copy_model(tmp_path, _manifest(**{"model.safetensors": "0" * 64}))
    with pytest.raises(ModelChecksumError, match=r"model\.safetensors .* refusing to load it"):
        load_encoder(location)


def test_a_model_without_a_manifest_is_refused(tmp_path: Path) -> None:
    _need_model()
    from search.embedding import EmbeddingError, load_encoder

    with pytest.raises(EmbeddingError, match="source, licence and checksums"):
        load_encoder(_copy_model(tmp_path, None))
    with pytest.raises(EmbeddingError, match="no embedding model"):
        load_encoder(tmp_path / "nowhere")


# --- fusion --------------------------------------------------------------------------------


def test_standardise_gives_z_scores() -> None:
    # mean 5, population standard deviation 2
    assert semantic.standardise([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]) == pytest.approx(
        [-1.5, -0.5, -0.5, -0.5, 0.0, 0.0, 1.0, 2.0])
    assert semantic.standardise([3.0, 3.0]) == [0.0, 0.0]
    assert semantic.standardise([]) == []


def test_fuse_weighs_standardised_scores() -> None:
    lexical = {"a": 10.0, "b": 0.0, "c": 5.0}  # z: 1.2247, -1.2247, 0
    full = {"a": 0.1, "b": 0.9, "c": 0.5}  # z: -1.2247, 1.2247, 0
    only_words = semantic.fuse(lexical, full, {}, semantic.FusionWeights(weight=0.0, answer_share=0.0))
    assert only_words == pytest.approx({"a": 1.224745, "b": -1.224745, "c": 0.0})
    fused = semantic.fuse(lexical, full, {}, semantic.FusionWeights(weight=0.75, answer_share=0.0))
    # 0.25 * z(lexical) + 0.75 * z(meaning): meaning wins, "b" first
    assert fused == pytest.approx({"a": -0.612372, "b": 0.612372, "c": 0.0})
    # The answers' cosines join the meaning before it is standardised again; a candidate with no
    # answers vector takes the lowest of the others.
    answers = {"a": 0.2, "c": 0.8}
    mixed = semantic.fuse(lexical, full, answers, semantic.FusionWeights(weight=1.0, answer_share=0.5))
    assert max(mixed, key=mixed.__getitem__) == "c"
    with pytest.raises(ValueError):
        semantic.fuse(lexical, full, {}, semantic.FusionWeights(weight=1.5, answer_share=0.0))


def test_vectors_pack_to_float32_bytes_and_back() -> None:
    blob = semantic.pack([0.5, -1.0, 0.25])
    assert len(blob) == 12
    assert list(semantic.unpack(blob)) == [0.5, -1.0, 0.25]
    assert semantic.cosine([1.0, 0.0], [1.0, 1.0]) == pytest.approx(2 ** -0.5)
    assert semantic.cosine([0.0, 0.0], [1.0, 1.0]) == 0.0


def test_document_texts_prefer_the_accepted_answer() -> None:
    from datetime import datetime, timezone

    doc = Document(kind="question", id=1, title=" Wifi drops ", body="Every hour.", answers="a\n\nb",
                   accepted="Update the driver.", created=datetime(2024, 1, 1, tzinfo=timezone.utc))
    texts = semantic.document_texts(doc)
    assert (texts.title, texts.full, texts.answers) == ("Wifi drops", "Wifi drops\nEvery hour.", "Update the driver.")
    assert semantic.query_text("Wifi drops", "") == "Wifi drops"


# --- the evaluation --------------------------------------------------------------------------


def test_eval_with_semantic_runs_on_a_small_subset(capsys: pytest.CaptureFixture[str]) -> None:
    _need_model()
    started = time.monotonic()
    assert main(["semeval", str(semeval_dir()), "--split", "dev", "--limit", "2", "--semantic"]) == 0
    out = capsys.readouterr().out
    assert "all-MiniLM-L6-v2 fusion" in out and "(2 queries)" in out and "MAP" in out
    assert time.monotonic() - started < 60


# --- without the extra ------------------------------------------------------------------------

BLOCKED = """
import sys
for name in {modules!r}:
    sys.modules[name] = None  # "import numpy" now raises ImportError, as when the extra is absent
{body}
"""


def _run_without_extra(body: str) -> subprocess.CompletedProcess[str]:
    code = BLOCKED.format(modules=semantic.EXTRA_MODULES, body=body)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FORUM_EMBEDDING_MODEL", None)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_search_works_and_imports_nothing_of_the_extra_without_it() -> None:
    result = _run_without_extra("""
from datetime import datetime, timezone
from search import SearchIndex, Document, semantic
import forum, search.eval
assert not semantic.available() and semantic.shared_encoder() is None and semantic.model_location() is None
index = SearchIndex.open(None)
index.upsert([Document(kind="question", id=1, title="Printer offline", body="after update",
                       created=datetime(2024, 1, 1, tzinfo=timezone.utc))])
assert [h.key for h in index.similar("printer offline")] == ["question:1"]
assert [h.key for h in index.search("printer").hits] == ["question:1"]
app = forum.create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
assert app is not None
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("numpy", "tokenizers", "safetensors", "threadpoolctl")
                and sys.modules[m] is not None)
assert not loaded, loaded
print("ok")
""")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")


@pytest.mark.parametrize(("query", "sentence"), [
    ("why does my hub drop off every night", True),
    ("hub offline?", True),
    ("tag:wifi my hub keeps dropping off", True),
    ("hub offline night", False),
    ('"hub offline" every night since update', False),
    ("hub OR bridge drops off every night", False),
    ("hub drops off every night -zigbee", False),
    ("tag:wifi is:solved", False),
])
def test_which_search_queries_read_as_sentences(query: str, sentence: bool) -> None:
    from search.query import parse_query
    assert semantic.reads_as_sentence(parse_query(query)) is sentence
