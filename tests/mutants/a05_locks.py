from . import Mutant

ASSIGNMENT = "05-locks"

COUNTER = """
import threading


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.value = 0

    def increment(self):
{body}
"""


def counter(body: str) -> str:
    return COUNTER.format(body="\n".join("        " + ln for ln in body.strip("\n").splitlines()))


ACCOUNT = """
import threading


class Account:
    def __init__(self, balance):
        self.lock = threading.Lock()
        self.balance = balance


def withdraw(account, amount):
{body}
"""


def account(body: str) -> str:
    return ACCOUNT.format(body="\n".join("    " + ln for ln in body.strip("\n").splitlines()))


MUTANTS = [
    Mutant(
        "counter-solution", "no lock", counter("self.value = self.value + 1"), ("counter-tests",)
    ),
    Mutant(
        "counter-solution",
        "lock around the read only",
        counter("with self.lock:\n    current = self.value\nself.value = current + 1"),
        ("counter-tests",),
    ),
    Mutant(
        "counter-solution",
        "a new lock on every call",
        counter("with threading.Lock():\n    self.value = self.value + 1"),
        ("counter-tests",),
    ),
    Mutant(
        "counter-solution",
        "lock never released (deadlock)",
        counter("self.lock.acquire()\nself.value = self.value + 1"),
        ("counter-tests",),
        expect="Timed out",
    ),
    Mutant(
        "withdraw-solution",
        "no lock",
        account(
            "if account.balance >= amount:\n"
            "    account.balance = account.balance - amount\n"
            "    return True\n"
            "return False"
        ),
        ("withdraw-tests",),
    ),
    Mutant(
        "withdraw-solution",
        "check outside the lock",
        account(
            "if account.balance >= amount:\n"
            "    with account.lock:\n"
            "        account.balance = account.balance - amount\n"
            "    return True\n"
            "return False"
        ),
        ("withdraw-tests",),
    ),
    Mutant(
        "withdraw-solution",
        "lock around the check only",
        account(
            "with account.lock:\n"
            "    ok = account.balance >= amount\n"
            "if ok:\n"
            "    account.balance = account.balance - amount\n"
            "return ok"
        ),
        ("withdraw-tests",),
    ),
    Mutant(
        "withdraw-solution",
        "lock not released when refusing (deadlock)",
        account(
            "account.lock.acquire()\n"
            "if account.balance >= amount:\n"
            "    account.balance = account.balance - amount\n"
            "    account.lock.release()\n"
            "    return True\n"
            "return False"
        ),
        ("withdraw-tests",),
        expect="Timed out",
    ),
]
