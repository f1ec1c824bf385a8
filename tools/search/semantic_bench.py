"""Speed and memory of meaning (sentence embeddings fused with BM25F), on generated posts.

    python -m tools.search.semantic_bench [--docs 1000] [--titles 100] [--threads 1]

Measures, in one process with one encoder thread:

* loading the model (with its checksum verification) and the process's resident memory
  before and after: what each worker adds by loading it (one encoder per process);
* vector throughput: documents per second for the two vectors a post keeps (title and body;
  answers), the work the job queue does after a commit;
* similar as you type: `similar()` for the 20 best BM25F candidates, one encode of the typed
  title, cosines against the candidates' stored vectors and the fusion, p50 and p95.

Related questions cost the thread page nothing: they are computed when the thread changes
and read from `related_questions` (docs/architecture.md).
Needs the `semantic` extra and a model; without them it says so and exits 0.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from search import semantic
from search.index import SearchIndex
from tools.search.bench import measure
from tools.search.synthetic import SyntheticForum

__all__ = ["main", "resident_mib"]

CANDIDATES = 20


def resident_mib() -> float:
    """This process's resident memory now, in MiB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m tools.search.semantic_bench",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--titles", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if not semantic.available() or semantic.model_location() is None:
        print("semantic bench skipped: the semantic extra or a model is not installed")
        return 0
    import numpy as np  # the extra is installed (checked above)

    before = resident_mib()
    started = time.perf_counter()
    encoder = semantic.shared_encoder(threads=args.threads)
    assert encoder is not None
    loaded = time.perf_counter() - started
    after = resident_mib()
    print(f"model {encoder.manifest.name}: loaded and verified in {loaded:.2f} s; "
          f"resident memory {before:.0f} -> {after:.0f} MiB (+{after - before:.0f} MiB per process)")

    forum = SyntheticForum(1)
    docs = list(forum.documents(args.docs))
    texts = [semantic.document_texts(d) for d in docs]
    started, cpu = time.perf_counter(), time.process_time()
    full = encoder.encode([t.full for t in texts])
    with_answers = [i for i, t in enumerate(texts) if t.answers]
    answer_rows = encoder.encode([texts[i].answers for i in with_answers])
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"vectors: {len(docs):,} posts (title+body, answers) in {elapsed:.1f} s = {len(docs) / elapsed:,.1f} posts/s "
          f"({len(docs) / cpu:,.1f} per CPU-second), {args.threads} thread(s)")

    keys = [d.key for d in docs]
    full_by_key = dict(zip(keys, full))
    answers_by_key = {keys[i]: answer_rows[n] for n, i in enumerate(with_answers)}
    index = SearchIndex.open(None)
    index.rebuild(docs)
    typed = SyntheticForum(2)
    titles = [typed.title() for _ in range(args.titles)]

    def as_you_type(title: str) -> list[str]:
        hits = index.similar(title, limit=CANDIDATES)
        if not hits:
            return []
        vector = encoder.encode([title])[0]
        lexical = {h.key: h.score for h in hits}
        cos_full = {k: float(np.dot(vector, full_by_key[k])) for k in lexical}
        cos_answers = {k: float(np.dot(vector, answers_by_key[k])) for k in lexical if k in answers_by_key}
        fused = semantic.fuse(lexical, cos_full, cos_answers, semantic.TITLE_WEIGHTS)
        return sorted(fused, key=fused.__getitem__, reverse=True)

    measure(as_you_type, titles[: max(1, len(titles) // 4)])  # warm up
    print(f"similar as you type ({CANDIDATES} candidates, {len(docs):,} posts): {measure(as_you_type, titles)}")
    print(f"  of which one encode of the title: {measure(lambda t: encoder.encode([t]), titles)}")
    index.close()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
