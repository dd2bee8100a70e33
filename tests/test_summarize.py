"""utils.summarize: segmentation, datelines, ROUGE, TextRank and the keep/drop tagger."""
from collections import Counter
from itertools import combinations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from utils import summarize as S
from utils import text


def tagged(s: str, tag: str = "n"):
    """A line of single-character 'words' (punctuation tagged w), for synthetic corpora."""
    return [(ch, "w" if ch in "，。！？：；、“”（）" else tag) for ch in s]


# --- segmentation ----------------------------------------------------------------------

@pytest.mark.parametrize("line, kind", [
    ("全总致全国各族职工慰问信", "heading"),
    ("迈向充满希望的新世纪——一九九八年新年讲话（附图片１张）", "heading"),
    ("周德武", "heading"),
    ("慰问信说，实现党的十五大提出的宏伟目标。", "paragraph"),
    ("谢谢！（新华社北京１２月３１日电）", "paragraph"),
    ("同胞们、朋友们、女士们、先生们：", "paragraph"),
    ("他说：“这是一个好制度。”", "paragraph"),
    ("这是一个没有句号但是非常非常长的段落它一直写下去超过了四十五个字符的上限所以不是标题而是段落正文", "paragraph"),
    ("（新华社记者樊如钧摄）", "remark"),
    ("（一九九七年十二月三十一日）", "remark"),
    ("（传真照片）", "remark"),
])
def test_line_kind(line, kind):
    assert S.line_kind(line) == kind


def test_line_kind_errors():
    with pytest.raises(TypeError, match="string"):
        S.line_kind(["a"])
    with pytest.raises(ValueError, match="empty"):
        S.line_kind("   ")


def test_segment_synthetic_corpus():
    lines = [tagged("标题一"), tagged("副标题"), tagged("（图片说明）"), tagged("第一段。"), tagged("第二段。"),
             tagged("标题二（图片）"), tagged("只有一段。"), tagged("标题三"), tagged("甲段。"), tagged("乙段！")]
    articles = S.segment_articles(lines)
    assert [a.headline for a in articles] == ["标题一", "标题二", "标题三"]
    assert [a.start for a in articles] == [0, 5, 7]
    assert [len(a.paragraphs) for a in articles] == [2, 1, 2]
    assert S.words_text(articles[0].headings[1]) == "副标题"
    assert [a.headline for a in S.segment_articles(lines, min_paragraphs=2)] == ["标题一", "标题三"]
    assert S.words_text(articles[1].headline_words) == "标题二"  # picture note dropped from the words too


def test_segment_errors():
    with pytest.raises(TypeError, match="tagged lines"):
        S.segment_articles("标题\n段落。")
    with pytest.raises(TypeError, match="word, tag"):
        S.segment_articles(["标题", "段落。"])
    with pytest.raises(ValueError, match="min_paragraphs"):
        S.segment_articles([tagged("标题")], min_paragraphs=0)


def test_segment_real_corpus_first_lines():
    from utils import data

    corpus = data.load("peoples_daily", max_lines=140)
    headlines = [a.headline for a in S.segment_articles(corpus.lines)]
    assert headlines[:6] == ["迈向充满希望的新世纪——一九九八年新年讲话", "在十五大精神指引下胜利前进——元旦献辞",
                             "北京举行新年音乐会", "李鹏在北京考察企业", "挂起红灯迎新年", "全总致全国各族职工慰问信"]
    assert "党中央国务院关心西藏雪灾救灾工作" in headlines and "我国将实行播音员主持人持证上岗制度" in headlines
    assert len(headlines) == 23


def test_edition_days_and_split():
    texts = ["甲", "明天气象预报（１９９８年元月１日２０时—元月２日２０时）", "乙", "明天气象预报（１月２日２０时—３日２０时）",
             "丙", "明天气象预报（１月３日２０时—１月４日２０时）", "丁"]
    assert S.edition_days(["开头"] + texts).tolist() == [1, 1, 1, 1, 2, 2, 3, 3]
    articles = [S.Article([tagged("题")], [tagged("段。")], start=i, day=d) for i, d in enumerate([1, 2, 3, 4, 5, 6, 7])]
    train, val, test = S.split_by_day(articles, val_days=(3, 4), test_days=(6, 7))
    assert train.tolist() == [0] and val.tolist() == [2, 3] and test.tolist() == [5, 6]  # days 2 and 5 are gaps
    with pytest.raises(ValueError, match="before"):
        S.split_by_day(articles, val_days=(5, 6), test_days=(3, 4))


# --- datelines and sentences -----------------------------------------------------------------

@pytest.mark.parametrize("before, after", [
    ("本报北京１月１日讯记者陈雁报道：新年音乐会举行。", "新年音乐会举行。"),
    ("新华社贵阳１２月３１日电（记者刘子富）温家宝考察。", "温家宝考察。"),
    ("据新华社北京１２月３０日电西藏副主席泽仁桑珠说。", "西藏副主席泽仁桑珠说。"),
    ("新华社华盛顿１月５日专电美国总统说。", "美国总统说。"),
    ("本报济南十二月三十一日电截至年底。", "截至年底。"),
    ("本报讯记者施明慎报道：行长表示。", "行长表示。"),
    ("本报福州电记者赵鹏报道：市委决定。", "市委决定。"),
    ("本报记者从电力部获悉：新年伊始。", "本报记者从电力部获悉：新年伊始。"),
    ("据统计，工业增长。", "据统计，工业增长。"),
    ("新华社记者兰红光摄", "新华社记者兰红光摄"),
])
def test_strip_dateline(before, after):
    assert S.strip_dateline(before) == after


def test_strip_dateline_words_and_errors():
    words = [("本报", "r"), ("北京", "ns"), ("１月１日", "t"), ("讯", "Ng"), ("记者", "n"), ("张三", "nr"),
             ("报道", "v"), ("：", "w"), ("会议", "n"), ("召开", "v"), ("。", "w")]
    assert S.strip_dateline_words(words) == [("会议", "n"), ("召开", "v"), ("。", "w")]
    assert S.strip_dateline_words(words[8:]) == words[8:]
    with pytest.raises(TypeError, match="string"):
        S.strip_dateline(None)


def test_split_sentences_keeps_closing_quotes():
    words = [("他", "r"), ("说", "v"), ("：", "w"), ("“", "w"), ("好", "a"), ("。", "w"), ("”", "w"),
             ("大家", "r"), ("笑", "v"), ("！", "w"), ("然后", "c")]
    sentences = [S.words_text(s) for s in S.split_sentences(words)]
    assert sentences == ["他说：“好。”", "大家笑！", "然后"]


def test_lead_sentence_strips_the_dateline():
    article = S.Article([tagged("标题")], [[("新华社", "nt"), ("北京", "ns"), ("１月１日", "t"), ("电", "n"),
                                          ("会议", "n"), ("召开", "v"), ("。", "w"), ("其次", "c"), ("。", "w")],
                                         tagged("第二段。")], start=0)
    assert S.lead_sentence(article) == "会议召开。"
    assert S.lead_sentence(article, dateline=True) == "新华社北京１月１日电会议召开。"
    assert [S.words_text(s) for s in S.body_sentences(article)] == ["会议召开。", "其次。", "第二段。"]


# --- ROUGE -------------------------------------------------------------------------------

def test_rouge_hand_computed():
    ref, cand = "全总致全国各族职工慰问信", "全总发出致职工慰问信"
    r1, r2, rl = S.rouge_n(cand, ref, 1), S.rouge_n(cand, ref, 2), S.rouge_l(cand, ref)
    assert (r1.precision, r1.recall) == (8 / 10, 8 / 12)
    assert (r2.precision, r2.recall) == (5 / 9, 5 / 11)
    assert (rl.precision, rl.recall) == (8 / 10, 8 / 12)
    assert np.isclose(r1.f1, 2 * 0.8 * (8 / 12) / (0.8 + 8 / 12))


def test_rouge_extremes_and_clipping():
    ref = "党中央关心西藏雪灾"
    assert S.rouge_n(ref, ref, 2) == S.rouge_l(ref, ref) == S.Score(1.0, 1.0, 1.0)
    assert S.rouge_n("", ref) == S.rouge_n(ref, "") == S.Score(0.0, 0.0, 0.0)
    assert S.rouge_n("今天很好", ref).f1 == 0
    assert S.rouge_n("雪", ref, 2) == S.Score(0.0, 0.0, 0.0)  # shorter than n: no bigrams
    assert S.rouge_n("灾灾灾灾", ref).precision == 0.25
    assert S.rouge_n(ref[::-1], ref, 1).f1 == 1 and S.rouge_n(ref[::-1], ref, 2).f1 == 0
    assert np.isclose(S.rouge_l(ref[::-1], ref).f1, 1 / 9)
    assert S.rouge_n("１９９８年", "1998年").f1 == 1.0  # full-width digits are normalised
    assert S.rouge_n("全总，致。", "全总致").f1 == 1.0  # punctuation is dropped


def test_rouge_on_word_lists():
    cand, ref = ["中国", "人民", "银行"], ["人民", "银行", "行长"]
    assert S.rouge_n(cand, ref, 1) == S.Score(2 / 3, 2 / 3, 2 / 3)
    assert S.rouge_n(cand, ref, 2).recall == 1 / 2


def test_rouge_errors():
    with pytest.raises(TypeError, match="candidate"):
        S.rouge_n(123, "abc")
    with pytest.raises(TypeError, match="reference"):
        S.rouge_l("abc", [1, 2])
    with pytest.raises(ValueError, match="positive integer"):
        S.rouge_n("a", "a", n=0)
    with pytest.raises(ValueError, match="2 candidates but 1 references"):
        S.rouge_all(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="at least one"):
        S.rouge_all([], [])
    with pytest.raises(TypeError, match="lists"):
        S.rouge_all("ab", "ab")
    with pytest.raises(TypeError, match="strings or lists"):
        S.lcs_length(3, "abc")


def test_rouge_all_is_the_mean():
    cands, refs = ["全总致职工", "信", ""], ["全总致全国职工", "慰问信", "党中央"]
    out = S.rouge_all(cands, refs)
    for metric, fn in (("rouge1", lambda c, r: S.rouge_n(c, r, 1)), ("rouge2", lambda c, r: S.rouge_n(c, r, 2)),
                       ("rougeL", S.rouge_l)):
        assert np.isclose(out[metric].f1, np.mean([fn(c, r).f1 for c, r in zip(cands, refs)]))
        assert np.isclose(out[metric].recall, np.mean([fn(c, r).recall for c, r in zip(cands, refs)]))


def _lcs_brute(a, b):
    def is_sub(sub, seq):
        it = iter(seq)
        return all(x in it for x in sub)
    return max(k for k in range(len(a) + 1) for sub in combinations(a, k) if is_sub(sub, b))


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="abc", max_size=7), st.text(alphabet="abc", max_size=7))
def test_lcs_matches_brute_force(a, b):
    assert S.lcs_length(a, b) == S.lcs_length(b, a) == _lcs_brute(a, b)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="新年快乐好", max_size=12), st.text(alphabet="新年快乐好", max_size=12))
def test_rouge_bounds_and_symmetry(a, b):
    for n in (1, 2):
        s, t = S.rouge_n(a, b, n), S.rouge_n(b, a, n)
        assert 0 <= s.f1 <= 1 and s.precision == t.recall and s.recall == t.precision
    assert S.rouge_l(a, b).f1 <= S.rouge_n(a, b, 1).f1 + 1e-12  # an LCS is a clipped unigram match


# --- baselines ----------------------------------------------------------------------------

def test_lead_chars_counts_tokens_not_punctuation():
    assert S.lead_chars("全总，致全国职工。", 3) == "全总，致"
    assert S.lead_chars("全总致", 0) == ""
    assert S.lead_chars("全总致", 10) == "全总致"
    with pytest.raises(ValueError, match="non-negative"):
        S.lead_chars("全总", -1)


def test_overlap_similarity():
    a, b = ["中国", "人民", "银行"], ["人民", "银行", "行长", "说"]
    assert np.isclose(S.overlap_similarity(a, b), 2 / (np.log(3) + np.log(4)))
    assert S.overlap_similarity(["中国"], ["中国"]) == 0.0  # log 1 + log 1 = 0
    assert S.overlap_similarity([], b) == 0.0


def test_pagerank_is_the_eigenvector():
    rng = np.random.default_rng(0)
    for n in (2, 5, 12):
        A = np.triu(rng.uniform(size=(n, n)) * (rng.uniform(size=(n, n)) > 0.4), 1)
        W = A + A.T
        G = S.google_matrix(W)
        assert np.allclose(G.sum(axis=0), 1)
        r, steps = S.pagerank(W)
        vals, vecs = np.linalg.eig(G)
        v = vecs[:, np.argmax(vals.real)].real
        assert np.allclose(r, v / v.sum(), atol=1e-9) and steps < 200


def test_pagerank_handles_an_isolated_sentence():
    W = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0.0]])
    r, _ = S.pagerank(W)
    assert np.isclose(r.sum(), 1) and r[0] == pytest.approx(r[1]) and r[2] < r[0]


def test_google_matrix_errors():
    with pytest.raises(ValueError, match="square"):
        S.google_matrix(np.ones((2, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        S.google_matrix(-np.ones((2, 2)))
    with pytest.raises(ValueError, match="damping"):
        S.google_matrix(np.ones((2, 2)), damping=1.0)


def test_textrank_scores_sum_to_one():
    article = S.Article([tagged("题")], [[("会议", "n"), ("召开", "v"), ("。", "w"), ("会议", "n"), ("结束", "v"),
                                        ("。", "w")], [("会议", "n"), ("召开", "v"), ("了", "u"), ("。", "w")]], 0)
    sentences, scores = S.textrank(article)
    assert len(sentences) == 3 and np.isclose(scores.sum(), 1)
    assert scores[0] == pytest.approx(scores.max())  # shares words with both others


# --- the keep/drop tagger -------------------------------------------------------------------

def test_keep_labels_align_once_in_order():
    lead = [("新华社", "nt"), ("的", "u"), ("邓", "nr"), ("的", "u"), ("，", "w"), ("逝世", "v"), ("邓", "nr")]
    headline = [("邓", "nr"), ("的", "u"), ("逝世", "v"), ("，", "w")]
    assert S.keep_labels(lead, headline).tolist() == [0, 0, 1, 1, 0, 1, 0]
    assert S.keep_labels(lead, []).tolist() == [0] * 7


def test_word_features_buckets():
    lead = [("会议", "n"), ("在", "p"), ("北京", "ns"), ("召开", "v")]
    f = S.word_features(lead, Counter({"会议": 1, "北京": 9}))
    assert f.shape == (4, 2) and f[:, 0].tolist() == [2, 1, 6, 1] and f[:, 1].tolist() == [0, 2, 4, 6]


def _examples():
    a1 = S.Article([[("会议", "n"), ("召开", "v")]],
                   [[("重要", "a"), ("会议", "n"), ("今天", "t"), ("召开", "v"), ("。", "w")], [("会议", "n"), ("。", "w")]], 0)
    a2 = S.Article([[("北京", "ns"), ("下雪", "v")]], [[("北京", "ns"), ("下雪", "v"), ("。", "w")], [("冷", "a"), ("。", "w")]], 1)
    return [S.make_example(a1), S.make_example(a2)]


def test_make_and_encode_examples():
    ex = _examples()
    assert ex[0].labels.tolist() == [0, 1, 0, 1, 0] and ex[0].headline == "会议召开"
    words = text.Vocab.build([[w for w, _ in e.words] for e in ex])
    tags = text.Vocab.build([[t for _, t in e.words] for e in ex])
    X, y = S.encode_examples(ex, words, tags)
    assert X.shape == (2, 5, 4) and y.shape == (2, 5) and X.dtype == torch.int64
    assert (X[1, 3:] == 0).all() and (y[1, 3:] == -1).all() and y[1, :3].tolist() == [1, 1, 0]
    with pytest.raises(ValueError, match="at least one"):
        S.encode_examples([], words, tags)


def test_masked_bce_ignores_padding():
    logits = torch.tensor([[0.5, -1.0, 3.0], [2.0, 7.0, -9.0]])
    y = torch.tensor([[1.0, 0.0, -1.0], [0.0, -1.0, -1.0]])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor([0.5, -1.0, 2.0]),
                                                                    torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(S.masked_bce(logits, y), expected)
    assert S.keep_accuracy(logits, y) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="same shape"):
        S.masked_bce(logits, y[:, :2])
    with pytest.raises(ValueError, match="no real words"):
        S.masked_bce(logits, -torch.ones_like(y))


def test_keep_tagger_shapes_padding_and_gradients():
    torch.manual_seed(0)
    net = S.KeepTagger(n_words=20, n_tags=6, word_dim=8, tag_dim=4, feature_dim=2, hidden=5, dropout=0.0).eval()
    X = torch.zeros(3, 7, 4, dtype=torch.int64)
    for i, n in enumerate((7, 4, 1)):
        X[i, :n, 0] = torch.randint(1, 20, (n,))
        X[i, :n, 1] = torch.randint(1, 6, (n,))
        X[i, :n, 2] = torch.randint(0, 7, (n,))
        X[i, :n, 3] = torch.randint(0, 8, (n,))
    out = net(X)
    assert out.shape == (3, 7)
    torch.testing.assert_close(net(X[1:2, :4]), out[1:2, :4])  # packing: padding does not leak in
    net.train()
    S.masked_bce(net(X), (X[..., 0] % 2).float().masked_fill(X[..., 0] == 0, -1)).backward()
    assert all(p.grad is not None for p in net.gru.parameters())
    with pytest.raises(ValueError, match="batch, length, 4"):
        net(X[..., :3])
    with pytest.raises(ValueError, match="at least one word"):
        net(torch.zeros(1, 3, 4, dtype=torch.int64))


def test_compress():
    words = [("邓", "nr"), ("永清", "nr"), ("同志", "n"), ("逝世", "v")]
    assert S.compress(words, [0.9, 0.5, 0.1, 0.6], 0.5) == "邓永清逝世"
    assert S.compress(words, [0.9, 0.5, 0.1, 0.6], 0.0) == "邓永清同志逝世"
    with pytest.raises(ValueError, match="one probability per word"):
        S.compress(words, [0.5], 0.5)
    with pytest.raises(ValueError, match="threshold"):
        S.compress(words, [0.5] * 4, 1.5)


def test_module_attribute_error():
    with pytest.raises(AttributeError, match="no attribute"):
        S.not_a_thing
