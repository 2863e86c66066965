from . import Alternative, Mutant

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
        expect="expected transfer to hold both locks",
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
        expect="add(1) and add_all at once",
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
        expect="add(1) and add_all at once",
    ),
    Mutant(
        "transfer-solution",
        "replaces both accounts' locks with one shared lock",
        transfer(
            "a.lock = b.lock = SHARED\n"
            "with SHARED:\n"
            "    a.balance = a.balance - amount\n"
            "    b.balance = b.balance + amount",
            extra="SHARED = threading.Lock()\n",
        ),
        ("transfer-tests",),
        expect="expected transfer to hold both locks",
        kind="cheat",
    ),
    Mutant(
        "transfer-solution",
        "forges the balances in the racy store behind the attribute, no locks",
        transfer(
            "def store(acc):\n"
            "    if hasattr(type(acc), '_racy_store_'):\n"
            "        return object.__getattribute__(acc, '_racy_store_')\n"
            "    return acc.__dict__\n"
            "store(a)['balance'] -= amount\n"
            "store(b)['balance'] += amount"
        ),
        ("transfer-tests",),
        expect="expected",
        kind="cheat",
    ),
    Mutant(
        "ledger-solution",
        "a lock that locks nothing (dodges the self-deadlock)",
        ledger(
            "def __init__(self):\n"
            "    self.lock = contextlib.nullcontext()\n"
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
        ).replace("import threading", "import contextlib\nimport threading"),
        ("ledger-tests",),
        expect="add(1) and add_all at once",
        kind="cheat",
    ),
    Mutant(
        "ledger-solution",
        "forges the total in the racy store behind the attribute",
        ledger(
            "def __init__(self):\n"
            "    self.lock = threading.RLock()\n"
            "    self.entries = []\n"
            "    self.total = 0\n"
            "\n"
            "def _store(self):\n"
            "    if hasattr(type(self), '_racy_store_'):\n"
            "        return object.__getattribute__(self, '_racy_store_')\n"
            "    return self.__dict__\n"
            "\n"
            "def add(self, amount):\n"
            "    self.entries.append(amount)\n"
            "    self._store()['total'] += amount\n"
            "\n"
            "def add_all(self, amounts):\n"
            "    with self.lock:\n"
            "        self.entries.extend(amounts)\n"
            "        self._store()['total'] += sum(amounts)"
        ),
        ("ledger-tests",),
        expect="expected",
        kind="cheat",
    ),
]

ALTERNATIVES = [
    Alternative(
        "transfer-solution",
        "another valid rule: order by id()",
        transfer(
            "first, second = sorted((a, b), key=id)\n"
            "with first.lock, second.lock:\n"
            "    a.balance -= amount\n"
            "    b.balance += amount"
        ),
    ),
    Alternative(
        "transfer-solution",
        "min/max by number, acquire/release in try/finally",
        transfer(
            "low = min(a, b, key=lambda acc: acc.number)\n"
            "high = max(a, b, key=lambda acc: acc.number)\n"
            "low.lock.acquire()\n"
            "try:\n"
            "    high.lock.acquire()\n"
            "    try:\n"
            "        a.balance = a.balance - amount\n"
            "        b.balance = b.balance + amount\n"
            "    finally:\n"
            "        high.lock.release()\n"
            "finally:\n"
            "    low.lock.release()"
        ),
    ),
    Alternative(
        "transfer-solution",
        "ExitStack over the locks sorted by number, descending",
        transfer(
            "with contextlib.ExitStack() as stack:\n"
            "    for acc in sorted((a, b), key=lambda acc: -acc.number):\n"
            "        stack.enter_context(acc.lock)\n"
            "    a.balance = a.balance - amount\n"
            "    b.balance = b.balance + amount"
        ).replace("import threading", "import contextlib\nimport threading"),
    ),
    Alternative(
        "ledger-solution",
        "a Lock and a private _add that assumes it is held",
        ledger(
            "def __init__(self):\n"
            "    self.lock = threading.Lock()\n"
            "    self.entries = []\n"
            "    self.total = 0\n"
            "\n"
            "def _add(self, amount):\n"
            "    self.entries.append(amount)\n"
            "    self.total = self.total + amount\n"
            "\n"
            "def add(self, amount):\n"
            "    with self.lock:\n"
            "        self._add(amount)\n"
            "\n"
            "def add_all(self, amounts):\n"
            "    with self.lock:\n"
            "        for amount in amounts:\n"
            "            self._add(amount)"
        ),
    ),
    Alternative(
        "ledger-solution",
        "a Condition (it wraps an RLock)",
        ledger(
            "def __init__(self):\n"
            "    self.lock = threading.Condition()\n"
            "    self.entries = []\n"
            "    self.total = 0\n"
            "\n"
            "def add(self, amount):\n"
            "    with self.lock:\n"
            "        self.entries.append(amount)\n"
            "        self.total += amount\n"
            "\n"
            "def add_all(self, amounts):\n"
            "    with self.lock:\n"
            "        for amount in amounts:\n"
            "            self.add(amount)"
        ),
    ),
    Alternative(
        "ledger-solution",
        "RLock with acquire/release in try/finally",
        ledger(
            "def __init__(self):\n"
            "    self.lock = threading.RLock()\n"
            "    self.entries = []\n"
            "    self.total = 0\n"
            "\n"
            "def add(self, amount):\n"
            "    self.lock.acquire()\n"
            "    try:\n"
            "        self.entries.append(amount)\n"
            "        self.total = self.total + amount\n"
            "    finally:\n"
            "        self.lock.release()\n"
            "\n"
            "def add_all(self, amounts):\n"
            "    self.lock.acquire()\n"
            "    try:\n"
            "        for amount in amounts:\n"
            "            self.add(amount)\n"
            "    finally:\n"
            "        self.lock.release()"
        ),
    ),
]
