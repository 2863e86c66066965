from . import Mutant

ASSIGNMENT = "06-deadlock-rlock"

ACCOUNT = """
import threading


class Account:
    def __init__(self, number, balance):
        self.number = number
        self.balance = balance
        self.lock = threading.Lock()


def deposit(account, amount):
    with account.lock:
        account.balance = account.balance + amount

{extra}
def transfer(a, b, amount):
{body}
"""


def transfer(body: str, extra: str = "") -> str:
    lines = "\n".join("    " + ln for ln in body.strip("\n").splitlines())
    return ACCOUNT.format(body=lines, extra=extra)


LEDGER = """
import threading


class Ledger:
{body}
"""


def ledger(body: str) -> str:
    return LEDGER.format(body="\n".join("    " + ln for ln in body.strip("\n").splitlines()))


MUTANTS = [
    Mutant(
        "transfer-solution",
        "AB/BA: source lock first",
        transfer(
            "with a.lock:\n"
            "    with b.lock:\n"
            "        a.balance = a.balance - amount\n"
            "        b.balance = b.balance + amount"
        ),
        ("transfer-tests",),
        expect="possible deadlock",
    ),
    Mutant(
        "transfer-solution",
        "holds only the source lock",
        transfer(
            "with a.lock:\n    a.balance = a.balance - amount\n    b.balance = b.balance + amount"
        ),
        ("transfer-tests",),
        expect="without holding account",
    ),
    Mutant(
        "transfer-solution",
        "one lock after the other, never both",
        transfer(
            "with a.lock:\n"
            "    a.balance = a.balance - amount\n"
            "with b.lock:\n"
            "    b.balance = b.balance + amount"
        ),
        ("transfer-tests",),
        expect="without holding account",
    ),
    Mutant(
        "transfer-solution",
        "one global lock instead of the accounts' locks",
        transfer(
            "with BANK_LOCK:\n"
            "    a.balance = a.balance - amount\n"
            "    b.balance = b.balance + amount",
            extra="BANK_LOCK = threading.Lock()\n",
        ),
        ("transfer-tests",),
        expect="without holding account",
    ),
    Mutant(
        "transfer-solution",
        "sorted, but the first lock taken twice (self-deadlock)",
        transfer(
            "first, second = sorted([a, b], key=lambda acc: acc.number)\n"
            "with first.lock:\n"
            "    with first.lock:\n"
            "        a.balance = a.balance - amount\n"
            "        b.balance = b.balance + amount"
        ),
        ("transfer-tests",),
        expect="Timed out",
    ),
    Mutant(
        "ledger-solution",
        "Lock where an RLock is needed (self-deadlock)",
        ledger(
            "def __init__(self):\n"
            "    self.lock = threading.Lock()\n"
            "    self.entries = []\n"
            "    self.total = 0\n"
            "\n"
            "def add(self, amount):\n"
            "    with self.lock:\n"
            "        self.entries.append(amount)\n"
            "        self.total = self.total + amount\n"
            "\n"
            "def add_all(self, amounts):\n"
            "    with self.lock:\n"
            "        for amount in amounts:\n"
            "            self.add(amount)"
        ),
        ("ledger-tests",),
        expect="Timed out",
    ),
    Mutant(
        "ledger-solution",
        "add_all without the lock (not atomic)",
        ledger(
            "def __init__(self):\n"
            "    self.lock = threading.Lock()\n"
            "    self.entries = []\n"
            "    self.total = 0\n"
            "\n"
            "def add(self, amount):\n"
            "    with self.lock:\n"
            "        self.entries.append(amount)\n"
            "        self.total = self.total + amount\n"
            "\n"
            "def add_all(self, amounts):\n"
            "    for amount in amounts:\n"
            "        self.add(amount)"
        ),
        ("ledger-tests",),
        expect="not atomic",
    ),
    Mutant(
        "ledger-solution",
        "add without the lock",
        ledger(
            "def __init__(self):\n"
            "    self.lock = threading.Lock()\n"
            "    self.entries = []\n"
            "    self.total = 0\n"
            "\n"
            "def add(self, amount):\n"
            "    self.entries.append(amount)\n"
            "    self.total = self.total + amount\n"
            "\n"
            "def add_all(self, amounts):\n"
            "    with self.lock:\n"
            "        for amount in amounts:\n"
            "            self.entries.append(amount)\n"
            "            self.total = self.total + amount"
        ),
        ("ledger-tests",),
        expect="2 threads add(1)",
    ),
    Mutant(
        "ledger-solution",
        "RLock, but add_all releases it between amounts",
        ledger(
            "def __init__(self):\n"
            "    self.lock = threading.RLock()\n"
            "    self.entries = []\n"
            "    self.total = 0\n"
            "\n"
            "def add(self, amount):\n"
            "    with self.lock:\n"
            "        self.entries.append(amount)\n"
            "        self.total = self.total + amount\n"
            "\n"
            "def add_all(self, amounts):\n"
            "    for amount in amounts:\n"
            "        with self.lock:\n"
            "            self.add(amount)"
        ),
        ("ledger-tests",),
        expect="not atomic",
    ),
    Mutant(
        "ledger-solution",
        "a new RLock on every call",
        ledger(
            "def __init__(self):\n"
            "    self.lock = threading.RLock()\n"
            "    self.entries = []\n"
            "    self.total = 0\n"
            "\n"
            "def add(self, amount):\n"
            "    with threading.RLock():\n"
            "        self.entries.append(amount)\n"
            "        self.total = self.total + amount\n"
            "\n"
            "def add_all(self, amounts):\n"
            "    with threading.RLock():\n"
            "        for amount in amounts:\n"
            "            self.add(amount)"
        ),
        ("ledger-tests",),
        expect="2 threads add(1)",
    ),
]
