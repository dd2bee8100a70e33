"""Each checker of section 6.5 accepts the reference answer and rejects plausible mistakes."""
import re
from collections import Counter

import numpy as np
import pytest
from checker_contract import contract_tests

from utils import summarize as S
from utils.checks import NOT_ATTEMPTED, evaluate



def rouge1_recall(candidate, reference):
    c, r = Counter(S.rouge_tokens(candidate)), Counter(S.rouge_tokens(reference))
    return sum((c & r).values()) / sum(r.values()) if r else 0.0


def lcs_length(a, b):
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, 1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


DATELINE = re.compile(r"^据?(?:本报|新华社)[^，。：（）]*?(?:电|讯)(?:（[^（）]*）)?(?:(?:本报|新华社)?记者[^，。：]*?报道：)?")


def strip_dateline(text):
    return DATELINE.sub("", text, count=1)


def pagerank_step(W, r, d=0.85):
    W = np.asarray(W, dtype=float)
    return (1 - d) / len(W) + d * (W / W.sum(axis=0)) @ r


REFERENCE = {"6.5.1": rouge1_recall, "6.5.2": lcs_length, "6.5.3": strip_dateline, "6.5.4": pagerank_step}


def precision_instead(candidate, reference):
    c, r = Counter(S.rouge_tokens(candidate)), Counter(S.rouge_tokens(reference))
    return sum((c & r).values()) / sum(c.values()) if c else 0.0


def set_based(candidate, reference):
    c, r = set(S.rouge_tokens(candidate)), S.rouge_tokens(reference)
    return len(c & set(r)) / len(r) if r else 0.0


def unclipped(candidate, reference):
    c, r = Counter(S.rouge_tokens(candidate)), Counter(S.rouge_tokens(reference))
    return sum(n for ch, n in c.items() if ch in r) / sum(r.values()) if r else 0.0


def with_punctuation(candidate, reference):
    c, r = Counter(candidate), Counter(reference)
    return sum((c & r).values()) / len(reference) if reference else 0.0


def longest_common_substring(a, b):
    best = 0
    for i in range(len(a)):
        for j in range(len(b)):
            k = 0
            while i + k < len(a) and j + k < len(b) and a[i + k] == b[j + k]:
                k += 1
            best = max(best, k)
    return best


def only_agency(text):
    return re.sub(r"^据?(?:本报|新华社)[^，。：（）]*?(?:电|讯)", "", text, count=1)


def no_ju(text):
    return re.sub(r"^(?:本报|新华社)[^，。：（）]*?(?:电|讯)(?:（[^（）]*）)?(?:(?:本报|新华社)?记者[^，。：]*?报道：)?",
                  "", text, count=1)


def up_to_colon(text):
    return text.split("：", 1)[1] if "：" in text else text


WRONG = [
    ("6.5.1", precision_instead, "precision"),
    ("6.5.1", set_based, "distinct characters"),
    ("6.5.1", unclipped, "clip"),
    ("6.5.1", with_punctuation, "punctuation"),
    ("6.5.1", lambda c, r: 0.5, "should be"),
    ("6.5.2", longest_common_substring, "substring"),
    ("6.5.2", lambda a, b: lcs_length(a, b) + 1, "off by one"),
    ("6.5.2", lambda a, b: len(set(a) & set(b)), "ignoring order"),
    ("6.5.2", lambda a, b: float(lcs_length(a, b)), "integer"),
    ("6.5.3", only_agency, "left over"),
    ("6.5.3", no_ju, "nothing was removed"),
    ("6.5.3", up_to_colon, "unchanged"),
    ("6.5.3", lambda t: t, "nothing was removed"),
    ("6.5.3", lambda t: t[8:] if t.startswith(("本报", "新华社", "据")) else t, "must come back unchanged"),
    ("6.5.3", lambda t: S.strip_dateline(t)[1:] if S.strip_dateline(t) != t else t, "removed too much"),
    ("6.5.3", lambda t: t.replace("。", ""), "unchanged"),
    ("6.5.4", lambda W, r, d=0.85: (1 - d) / len(W) + d * (W / W.sum(axis=1, keepdims=True)) @ r, "COLUMN"),
    ("6.5.4", lambda W, r, d=0.85: d * (W / W.sum(axis=0)) @ r, "teleport"),
    ("6.5.4", lambda W, r, d=0.85: d / len(W) + (1 - d) * (W / W.sum(axis=0)) @ r, "swapped"),
    ("6.5.4", lambda W, r, d=0.85: (1 - d) / len(W) + d * W @ r, "normalised"),
    ("6.5.4", lambda W, r, d=0.85: (1 - d) + d * (W / W.sum(axis=0)) @ r, "(1 - d)/n"),
    ("6.5.4", lambda W, r, d=0.85: r, "should give"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


@pytest.mark.parametrize("id", sorted(REFERENCE))
def test_an_ellipsis_is_not_attempted(id):
    assert evaluate(id, ...).status == NOT_ATTEMPTED


def test_library_versions_pass_too():
    assert evaluate("6.5.2", S.lcs_length).passed
    assert evaluate("6.5.3", S.strip_dateline).passed
    assert evaluate("6.5.1", lambda c, r: S.rouge_n(c, r, 1).recall).passed
