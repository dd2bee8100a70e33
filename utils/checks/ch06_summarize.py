"""Checkers for section 6.5 (summarization: ROUGE, LCS, datelines, PageRank)."""
from __future__ import annotations

import unicodedata
from collections import Counter

import numpy as np

from utils.checks import Wrong, exercise, not_close, numbers, tolerance, number


def _chars(s: str) -> list[str]:
    return [ch for ch in unicodedata.normalize("NFKC", s) if unicodedata.category(ch)[0] in "LN"]


def _recall(candidate: str, reference: str) -> float:
    c, r = Counter(_chars(candidate)), Counter(_chars(reference))
    return sum((c & r).values()) / sum(r.values()) if r else 0.0


def _number(value, what: str) -> float:
    return number(value, what)


# --- 6.5 Summarization -------------------------------------------------------------------

@exercise("6.5.1", "ROUGE-1 recall of two strings")
def _check_rouge1_recall(rouge1_recall) -> str:
    cases = [
        ("全总致职工慰问信", "全总致全国各族职工慰问信"),  # 8 of 12
        ("全总致全国各族职工慰问信", "全总致全国各族职工慰问信"),
        ("今天天气很好", "全总致全国各族职工慰问信"),
        ("信信信信信", "慰问信"),  # clipping: one 信
        ("国国", "全国各族国家"),  # the reference has 国 twice: both covered
        ("全总，致！全国。", "全总致全国各族"),  # punctuation is not a token
        ("北京１９９８", "北京1998年"),  # full-width digits match ASCII after NFKC
        ("新年好", "新年快乐新年好"),
    ]
    for cand, ref in cases:
        got = _number(rouge1_recall(cand, ref), f"rouge1_recall({cand!r}, {ref!r})")
        expected = _recall(cand, ref)
        if np.isclose(got, expected, atol=1e-9):
            continue
        c, r = Counter(_chars(cand)), Counter(_chars(ref))
        overlap = sum((c & r).values())
        if c and np.isclose(got, overlap / sum(c.values())):
            raise Wrong(f"for {cand!r} vs {ref!r} you divided by the candidate's length: that is precision; "
                        "recall divides by the reference's characters")
        if np.isclose(got, len(set(c) & set(r)) / max(len(set(r)), 1)) or \
                np.isclose(got, len(set(c) & set(r)) / max(sum(r.values()), 1)):
            raise Wrong(f"for {cand!r} vs {ref!r} you counted distinct characters (sets); ROUGE counts "
                        "every occurrence, clipped to min(count in candidate, count in reference)")
        unclipped = sum(n for ch, n in c.items() if ch in r) / max(sum(r.values()), 1)
        if np.isclose(got, unclipped):
            raise Wrong(f"for {cand!r} vs {ref!r} a character is counted more often than it occurs in the "
                        "reference: clip each count to min(candidate count, reference count)")
        raw = sum((Counter(cand) & Counter(ref)).values())
        if np.isclose(got, raw / max(len(ref), 1)) or np.isclose(got, raw / max(len(_chars(ref)), 1)):
            raise Wrong(f"for {cand!r} vs {ref!r}: drop punctuation and normalise full-width digits first "
                        "(use S.rouge_tokens on both strings)")
        raise not_close(f"rouge1_recall({cand!r}, {ref!r})", got, expected, rtol=1e-5, atol=1e-9)
    if _number(rouge1_recall("", "慰问信"), "rouge1_recall('', '慰问信')") != 0:
        raise Wrong("an empty candidate covers nothing: its recall must be 0")
    return f"{len(cases)} string pairs, with clipping, punctuation and full-width digits, and an empty candidate"


def _lcs(a, b) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def _longest_common_substring(a, b) -> int:
    best = 0
    for i in range(len(a)):
        for j in range(len(b)):
            k = 0
            while i + k < len(a) and j + k < len(b) and a[i + k] == b[j + k]:
                k += 1
            best = max(best, k)
    return best


@exercise("6.5.2", "length of the longest common subsequence")
def _check_lcs(lcs_length) -> str:
    cases = [("ABCBDAB", "BDCABA", 4), ("全总致职工慰问信", "全总致全国各族职工慰问信", 8), ("", "abc", 0),
             ("abc", "", 0), ("abc", "abc", 3), ("abc", "cba", 1), ("abc", "xyz", 0), ("aaaa", "aa", 2),
             ("新年快乐", "快乐新年", 2), (["中国", "人民", "银行"], ["人民", "银行", "行长"], 2)]
    rng = np.random.default_rng(65)
    for _ in range(40):
        a = "".join(rng.choice(list("abcd"), size=rng.integers(0, 9)))
        b = "".join(rng.choice(list("abcd"), size=rng.integers(0, 9)))
        cases.append((a, b, _lcs(a, b)))
    for a, b, expected in cases:
        got = lcs_length(a, b)
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            raise Wrong(f"lcs_length should return an integer, got {type(got).__name__}")
        if got == expected:
            continue
        if got == _longest_common_substring(a, b):
            raise Wrong(f"lcs_length({a!r}, {b!r}) = {got} is the longest common *substring* (contiguous); "
                        f"a subsequence may skip tokens, the answer is {expected}")
        if got == expected + 1 or got == expected - 1:
            raise Wrong(f"lcs_length({a!r}, {b!r}) is off by one: got {got}, expected {expected} "
                        "(check the table's size (len+1) and which cell you return)")
        if got == len(set(a) & set(b)):
            raise Wrong(f"lcs_length({a!r}, {b!r}) = {got} counts shared tokens, ignoring order; expected {expected}")
        raise Wrong(f"lcs_length({a!r}, {b!r}) should be {expected}, got {got}")
    return f"{len(cases)} pairs, including empty, reversed, repeated and random sequences and lists of words"


DATELINE_CASES = [
    ("本报北京１月１日讯记者陈雁报道：新年音乐会今晚在人民大会堂举行。", "新年音乐会今晚在人民大会堂举行。"),
    ("本报北京１２月３１日讯新华社记者陈雁、本报记者何加正报道：音乐会举行。", "音乐会举行。"),
    ("新华社贵阳１２月３１日电（记者刘子富）温家宝日前在贵州考察。", "温家宝日前在贵州考察。"),
    ("据新华社华沙１月２５日电（记者马云亮）波兰武术比赛今天举行。", "波兰武术比赛今天举行。"),
    ("新华社北京１月２４日电外交部发言人朱邦造今天答记者问。", "外交部发言人朱邦造今天答记者问。"),
    ("本报济南十二月三十一日电截至一九九七年底，胜利油田产油一百五十万吨。", "截至一九九七年底，胜利油田产油一百五十万吨。"),
    ("本报讯浙江黄岩在３万亩桔园实施栽培技术。", "浙江黄岩在３万亩桔园实施栽培技术。"),
    ("本报讯记者施明慎报道：中国人民银行行长戴相龙今天表示。", "中国人民银行行长戴相龙今天表示。"),
    ("本报昆明１月３日电记者张帆报道：昆明市实施优惠政策。", "昆明市实施优惠政策。"),
    ("据统计，１９９７年我国工业增长１１％。", "据统计，１９９７年我国工业增长１１％。"),
    ("１２月３１日，江泽民发表新年讲话。", "１２月３１日，江泽民发表新年讲话。"),
    ("记者翻山越岭赶到了瑶山老寨。", "记者翻山越岭赶到了瑶山老寨。"),
    ("编者按：行政缺少透明度，必然滋生腐败。", "编者按：行政缺少透明度，必然滋生腐败。"),
]


@exercise("6.5.3", "strip a news dateline")
def _check_strip_dateline(strip_dateline) -> str:
    # texts without a dateline first: they catch patterns that strip too eagerly
    for before, after in sorted(DATELINE_CASES, key=lambda case: case[0] != case[1]):
        got = strip_dateline(before)
        if not isinstance(got, str):
            raise Wrong(f"strip_dateline should return a string, got {type(got).__name__}")
        if got == after:
            continue
        if before == after:
            raise Wrong(f"{before!r} has no dateline and must come back unchanged, got {got!r}")
        if got == before:
            raise Wrong(f"nothing was removed from {before!r}; expected {after!r}")
        if got.startswith("（") and after in got:
            raise Wrong(f"the reporter note in brackets is left over: {got!r}; remove （…） right after 电")
        if "报道：" in got and after in got:
            raise Wrong(f"the reporter part '记者…报道：' is left over: {got!r}")
        if got.startswith("据") or before.startswith("据") and after in got and got != after:
            raise Wrong(f"for {before!r} the leading 据 must go too: expected {after!r}, got {got!r}")
        if after.endswith(got) and len(got) < len(after):
            raise Wrong(f"you removed too much from {before!r}: expected {after!r}, got {got!r}")
        raise Wrong(f"strip_dateline({before!r}) should be {after!r}, got {got!r}")
    return f"{len(DATELINE_CASES)} leads: 本报…讯/电, 新华社…电, 据…, reporter notes, and texts without a dateline"


def _pagerank_step(W, r, d):
    W = np.asarray(W, dtype=float)
    return (1 - d) / len(W) + d * (W / W.sum(axis=0)) @ r


@exercise("6.5.4", "one PageRank power-iteration step")
def _check_pagerank_step(pagerank_step) -> str:
    rng = np.random.default_rng(654)
    for n, d in ((3, 0.85), (5, 0.85), (6, 0.5), (4, 0.0)):
        A = rng.uniform(0, 1, size=(n, n))
        W = np.triu(A, 1)
        W = W + W.T  # symmetric, zero diagonal, unequal degrees
        r = rng.dirichlet(np.ones(n))
        got = np.asarray(pagerank_step(W.copy(), r.copy(), d), dtype=float)
        if got.shape != (n,):
            raise Wrong(f"pagerank_step should return a vector of shape ({n},), got {got.shape}")
        expected = _pagerank_step(W, r, d)
        if np.allclose(got, expected, atol=1e-10):
            continue
        if np.allclose(got, (1 - d) / n + d * (W / W.sum(axis=1, keepdims=True)) @ r):
            raise Wrong("you normalised the rows of W; normalise each COLUMN to sum 1 (M[:, j] = W[:, j] / sum_i W[i, j]), "
                        "so that M is column-stochastic and the scores keep summing to 1")
        if np.allclose(got, d * (W / W.sum(axis=0)) @ r):
            raise Wrong("the teleport term (1 - d)/n is missing")
        if np.allclose(got, d / n + (1 - d) * (W / W.sum(axis=0)) @ r):
            raise Wrong("d and 1 - d are swapped: d multiplies M r, (1 - d)/n is the teleport")
        if np.allclose(got, (1 - d) / n + d * W @ r):
            raise Wrong("W must be normalised: divide each column by its sum first")
        if np.allclose(got, (1 - d) + d * (W / W.sum(axis=0)) @ r):
            raise Wrong("the teleport term is (1 - d)/n, not 1 - d: the scores must sum to 1")
        yours, right = numbers(got, expected)
        raise Wrong(f"for a {n}x{n} graph with d = {d} the step should give {right}, got {yours} "
                    f"(the check allows {tolerance(1e-5, 1e-10)})")
    return "four random graphs and damping factors: (1 - d)/n + d M r with column-normalised M"

