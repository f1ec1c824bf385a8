"""Deterministic synthetic support-forum posts and queries (for the benchmark and tests).

The text resembles a product-support forum: product and component names, error codes
and messages, version numbers, operating systems, a Zipf-distributed core vocabulary
and a long tail of rare tokens (file names, ids, jargon) so that the lexicon grows
with the collection the way a real forum's does.  Everything is driven by one seeded
`random.Random`, so the same arguments always give the same posts.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from search.document import Document

__all__ = ["SyntheticForum"]

PRODUCTS = (
    "Acme Sync", "CloudVault", "PrintHub", "MailDesk", "NetGuard VPN", "PhotoBox",
    "TaskBoard", "PayFlow", "HomeHub router", "SmartCam", "DocuSign Lite", "NoteStack",
    "MeetNow", "DriveMate", "BackupPro", "ShopCart", "FormBuilder", "ChatDesk",
)
NOUNS = (
    "login password account invoice subscription license backup sync folder file "
    "attachment printer driver firmware update installer router wifi bluetooth camera "
    "notification calendar contact export import report dashboard api token webhook "
    "plugin extension browser cache cookie certificate proxy firewall port server "
    "database disk memory battery screen keyboard email inbox spam filter rule label "
    "payment refund card billing plan upgrade trial user admin role permission group "
    "team workspace project task comment share link download upload storage quota "
    "limit setting preference language timezone template theme font scan pdf image "
    "video audio microphone speaker headset meeting call chat message phone tablet "
    "laptop desktop profile signature domain mailbox alias connector integration"
).split()
VERBS = (
    "install uninstall update reset sync connect login export import print scan share "
    "delete restore recover configure enable disable migrate upgrade downgrade cancel "
    "renew change remove add open save load rename move merge verify activate"
).split()
ADJECTIVES = (
    "slow stuck missing broken blank corrupted duplicate wrong failed invalid expired "
    "locked offline unavailable intermittent greyed hidden empty frozen"
).split()
FILLER = (
    "i my it the to a and is when after but have tried already still doesn't work "
    "anyone help please thanks same problem issue since yesterday every time try get "
    "see shows says this that with on in for of not can any how what why where there "
    "we our they them was were just also now then again only some all new old first "
    "right way need want know think does did been being would should could will"
).split()
ERROR_TEMPLATES = (
    "error 0x{hex}", "ERR_{w1}_{w2}", "HTTP {http}", "timeout after {n} seconds",
    "permission denied", "connection refused", "certificate has expired", "disk full",
    "out of memory", "file not found", "invalid token", "sync conflict", "E{code}",
    "unexpected error occurred", "service unavailable", "access denied",
)
OSES = ("Windows 10", "Windows 11", "macOS 13", "macOS 14", "iOS 17", "Android 13",
        "Android 14", "Ubuntu 22.04", "ChromeOS")
TITLE_TEMPLATES = (
    "How do I {verb} {noun} in {product}?",
    "{product} {version} fails with {error}",
    "Can't {verb} {noun} after update to {version}",
    "{noun} {adj} on {os}",
    "{error} when trying to {verb} {noun}",
    "Is it possible to {verb} {noun} to {noun2}?",
    "{product} {noun} {adj} since {version}",
    "{verb} {noun} not working on {os}",
    "Where is the {noun} {noun2} setting in {product}?",
    "{product}: {noun} keeps showing {error}",
)
SENTENCES = (
    "I {tried} to {verb} the {noun} but it shows {error}.",
    "This started after I updated {product} to {version} on {os}.",
    "The {noun} is {adj} and the {noun2} is {adj2}.",
    "I already tried to {verb} the {noun} and restart, still the same problem.",
    "Is there any way to {verb} {noun} without losing my {noun2}?",
    "Log says {error} at {file}.",
    "We have {n} users on the {plan} plan and only some of them see this.",
    "Support ticket {ticket} was closed without a fix.",
    "Steps: open {product}, go to {noun} settings, click {verb}, nothing happens.",
    "Any help is appreciated, thanks {tail}.",
)
ANSWER_SENTENCES = (
    "Go to Settings > {noun} and {verb} the {noun2}, then restart {product}.",
    "This is a known issue in {version}; upgrade to {version2} fixes it.",
    "Clear the {noun} cache and {verb} again.",
    "Check that the {noun} {noun2} is not {adj}; that causes {error}.",
    "Had the same problem on {os}, reinstalling the {noun} driver solved it.",
    "You need admin permission to {verb} {noun}.",
    "Try disabling the {noun} extension, it conflicts with {product}.",
)
SYLLABLES = ("ka", "lo", "mi", "tre", "vor", "sen", "dal", "qui", "rax", "bel", "tor",
             "nu", "zen", "pha", "gri", "mon", "sta", "fle", "dro", "wix")


class SyntheticForum:
    """Generator of reproducible `Document`s and queries; see the module docstring."""

    def __init__(self, seed: int = 1234, vocabulary_seed: int = 0) -> None:
        # The vocabulary has its own seed: generators with different content seeds
        # (the corpus, the measured queries, the warm-up queries) must speak about the
        # same products and features, or every query would hold words no post has.
        self.rng = rng = random.Random(vocabulary_seed)
        # Real words head each vocabulary; invented words (feature names, jargon) make
        # up the long tail, so that a typical query word occurs in a few percent of the
        # posts and the most common ones in a fifth -- as on a real support forum.
        self.nouns = self._extend(NOUNS, 2_000)
        self.verbs = self._extend(VERBS, 300)
        self.adjectives = self._extend(ADJECTIVES, 200)
        self.products = list(PRODUCTS) + [
            f"{w.capitalize()} {rng.choice(('Pro', 'Cloud', 'Go', 'Desk', 'Hub'))}"
            for w in self._invent(60)]
        self.tags = [p.split()[0].lower() for p in self.products] + self.nouns[:300] + [
            o.split()[0].lower() for o in OSES]
        self.tags = list(dict.fromkeys(self.tags))
        self.tail = self._invent(20_000)
        self.users = [f"user{n}" for n in range(5_000)]
        self.hexes = [f"{rng.getrandbits(32):08x}" for _ in range(300)]
        self.epoch = datetime(2019, 1, 1, tzinfo=timezone.utc)
        self._w_noun = self._zipf_weights(len(self.nouns))
        self._w_verb = self._zipf_weights(len(self.verbs))
        self._w_adj = self._zipf_weights(len(self.adjectives))
        self._w_tag = self._zipf_weights(len(self.tags))
        self._w_user = self._zipf_weights(len(self.users))
        self.rng = random.Random(seed)

    def _invent(self, count: int) -> list[str]:
        words: dict[str, None] = {}
        while len(words) < count:
            words["".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(2, 4)))] = None
        return list(words)

    def _extend(self, real: tuple[str, ...] | list[str], size: int) -> list[str]:
        return list(real) + [w for w in self._invent(size) if w not in real][: size - len(real)]

    @staticmethod
    def _zipf_weights(n: int, q: float = 5.0) -> list[float]:
        # Zipf-Mandelbrot (1 / (rank + q)): a flatter head than plain Zipf.
        return list(itertools.accumulate(1.0 / (rank + q) for rank in range(1, n + 1)))

    def _noun(self) -> str:
        return self.rng.choices(self.nouns, cum_weights=self._w_noun)[0]

    def _version(self) -> str:
        rng = self.rng
        return f"v{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"

    def _error(self) -> str:
        rng = self.rng
        return rng.choice(ERROR_TEMPLATES).format(
            hex=rng.choice(self.hexes), w1=rng.choice(NOUNS).upper(),
            w2=rng.choice(ADJECTIVES).upper(), http=rng.choice((400, 401, 403, 404, 500, 502, 503)),
            n=rng.choice((5, 10, 30, 60, 120)), code=rng.randint(1000, 1300))

    def _slots(self) -> dict[str, str]:
        rng = self.rng
        verb = rng.choices(self.verbs, cum_weights=self._w_verb)[0]
        adj, adj2 = rng.choices(self.adjectives, cum_weights=self._w_adj, k=2)
        return {
            "verb": verb, "noun": self._noun(), "noun2": self._noun(),
            "adj": adj, "adj2": adj2,
            "product": rng.choice(self.products), "version": self._version(),
            "version2": self._version(), "error": self._error(), "os": rng.choice(OSES),
            "tried": rng.choice(("tried", "wanted", "need")), "n": str(rng.randint(2, 500)),
            "plan": rng.choice(("free", "pro", "business", "enterprise")),
            "file": f"{rng.choice(self.tail)}_{rng.randint(1, 999)}.{rng.choice(('log', 'cfg', 'xml', 'json'))}",
            "ticket": f"#{rng.randint(10_000, 99_999)}", "tail": rng.choice(self.tail),
        }

    def _filler(self, count: int) -> str:
        return " ".join(self.rng.choices(FILLER, k=count))

    def title(self) -> str:
        """Return one new title in the forum's style."""
        return self.rng.choice(TITLE_TEMPLATES).format(**self._slots())

    def _paragraph(self, templates: tuple[str, ...], sentences: int) -> str:
        rng = self.rng
        parts = []
        for _ in range(sentences):
            parts.append(rng.choice(templates).format(**self._slots()))
            if rng.random() < 0.5:
                parts.append(self._filler(rng.randint(3, 12)) + ".")
        return " ".join(parts)

    def body(self) -> str:
        """Return one new question body (a paragraph of 2-6 sentences)."""
        return self._paragraph(SENTENCES, self.rng.randint(2, 6))

    def answer(self) -> str:
        """Return one new answer body (1-3 sentences)."""
        return self._paragraph(ANSWER_SENTENCES, self.rng.randint(1, 3))

    def tag_names(self, count: int) -> list[str]:
        """Return ``count`` tag names drawn with the forum's Zipf weights (possibly repeated)."""
        return self.rng.choices(self.tags, cum_weights=self._w_tag, k=count)

    def document(self, id: int) -> Document:
        """Return post number `id`; articles are about 8% of posts."""
        rng = self.rng
        is_article = rng.random() < 0.08
        answers = [] if is_article else [
            self._paragraph(ANSWER_SENTENCES, rng.randint(1, 3)) for _ in range(rng.randint(0, 4))]
        solved = bool(answers) and rng.random() < 0.55
        tags = {rng.choices(self.tags, cum_weights=self._w_tag)[0] for _ in range(rng.randint(1, 4))}
        return Document(
            kind="article" if is_article else "question",
            id=id,
            title=self.title(),
            body=self._paragraph(SENTENCES, rng.randint(2, 6)),
            answers="\n\n".join(answers),
            accepted=answers[0] if solved else "",
            tags=tuple(sorted(tags)),
            author=rng.choices(self.users, cum_weights=self._w_user)[0],
            status="published" if is_article else rng.choice(("open",) * 9 + ("closed",)),
            solved=solved,
            score=int(rng.paretovariate(1.5)) - 1 - (rng.random() < 0.1) * rng.randint(1, 3),
            answer_count=len(answers),
            created=self.epoch + timedelta(seconds=rng.randint(0, 5 * 365 * 86400)),
        )

    def documents(self, count: int, start: int = 1) -> Iterator[Document]:
        """Yield `count` posts with ids ``start, start + 1, ...``."""
        for id in range(start, start + count):
            yield self.document(id)

    def queries(self, count: int) -> list[str]:
        """Return `count` search-box queries: 1-4 words, phrases, filters, typos."""
        rng = self.rng
        out: list[str] = []
        for _ in range(count):
            words = [w for w in self.title().replace("?", "").replace(":", "").split()
                     if w.lower() not in FILLER and not w.startswith(("v", "0x"))]
            words = words or [self._noun()]
            roll = rng.random()
            if roll < 0.35:
                q = " ".join(words[: rng.randint(1, 2)])
            elif roll < 0.60:
                q = " ".join(rng.sample(words, min(len(words), rng.randint(3, 4))))
            elif roll < 0.70:
                q = f'"{" ".join(words[:2])}"'
            elif roll < 0.80:
                q = f"{words[0]} tag:{rng.choice(self.tags[:40])}"
            elif roll < 0.88:
                q = f"{' '.join(words[:2])} {rng.choice(('is:solved', 'is:unanswered', 'is:article'))}"
            elif roll < 0.94:
                q = f"{words[0]} -{self._noun()} {self._noun()} OR {self._noun()}"
            else:
                w = max(words, key=len)
                i = rng.randrange(max(1, len(w) - 1))
                q = w[:i] + w[i + 1: i + 2] + w[i: i + 1] + w[i + 2:]
            out.append(q)
        return out
