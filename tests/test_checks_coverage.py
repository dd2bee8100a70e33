"""Every exercise checker is mutation-tested: its id appears in a test_checks_*.py file
that feeds it wrong answers (each of those files asserts the reference passes, wrong
answers fail with a reason, and the stub reports "not attempted")."""
from pathlib import Path

from utils.checks import EXERCISES

TESTS = Path(__file__).resolve().parent


def test_every_checker_has_a_mutation_test():
    sources = "\n".join(p.read_text() for p in TESTS.glob("test_checks_ch*.py"))
    untested = [ex_id for ex_id in EXERCISES if f'"{ex_id}"' not in sources]
    assert not untested, f"checkers without tests of wrong answers: {untested}"

