from . import Alternative, Mutant

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
    Mutant(
        "counter-solution",
        "forges the instrument: writes the instance __dict__ past the slowed accessor",
        counter(
            "key = '_racy_value' if '_racy_value' in self.__dict__ else 'value'\n"
            "self.__dict__[key] = self.__dict__.get(key, 0) + 1"
        ),
        ("counter-tests",),
        expect="expected 100, got 0",
        kind="cheat",
    ),
    Mutant(
        "counter-solution",
        "sheds the instrument: swaps the object's class for a plain subclass",
        counter(
            "if type(self).__dict__.get('value') is not None:\n"
            "    value = self.value\n"
            "    plain = type('Counter', (Counter,), {'__slots__': type(self).__slots__})\n"
            "    self.__class__ = plain\n"
            "    self.value = value\n"
            "self.value = self.value + 1"
        ),
        ("counter-tests",),
        expect="expected 100, got",
        kind="cheat",
    ),
    Mutant(
        "counter-solution",
        "forges the instrument: updates the racy store behind the attribute",
        counter(
            "store = object.__getattribute__(self, '_racy_store_') "
            "if hasattr(type(self), '_racy_store_') else self.__dict__\n"
            "store['value'] = store.get('value', 0) + 1"
        ),
        ("counter-tests",),
        expect="not the object's internals",
        kind="cheat",
    ),
    Mutant(
        "withdraw-solution",
        "forges the instrument: reads and writes the instance __dict__",
        account(
            "key = '_racy_balance' if '_racy_balance' in account.__dict__ else 'balance'\n"
            "if account.__dict__[key] >= amount:\n"
            "    account.__dict__[key] -= amount\n"
            "    return True\n"
            "return False"
        ),
        ("withdraw-tests",),
        expect="expected (3, 10), got",
        kind="cheat",
    ),
    Mutant(
        "withdraw-solution",
        "sheds the instrument: swaps the account's class for a plain subclass",
        account(
            "if type(account).__dict__.get('balance') is not None:\n"
            "    balance = account.balance\n"
            "    plain = type('Account', (Account,), {'__slots__': type(account).__slots__})\n"
            "    account.__class__ = plain\n"
            "    account.balance = balance\n"
            "if account.balance >= amount:\n"
            "    account.balance = account.balance - amount\n"
            "    return True\n"
            "return False"
        ),
        ("withdraw-tests",),
        expect="expected (3, 10), got",
        kind="cheat",
    ),
    Mutant(
        "withdraw-solution",
        "forges the instrument: updates the racy store behind the attribute",
        account(
            "store = object.__getattribute__(account, '_racy_store_') "
            "if hasattr(type(account), '_racy_store_') else account.__dict__\n"
            "if store['balance'] >= amount:\n"
            "    store['balance'] -= amount\n"
            "    return True\n"
            "return False"
        ),
        ("withdraw-tests",),
        expect="expected",
        kind="cheat",
    ),
]

ALTERNATIVES = [
    Alternative(
        "counter-solution",
        "acquire/release in try/finally, +=",
        counter(
            "self.lock.acquire()\ntry:\n    self.value += 1\nfinally:\n    self.lock.release()"
        ),
    ),
    Alternative(
        "counter-solution",
        "a private helper that assumes the lock is held",
        COUNTER.replace(
            "    def increment(self):\n{body}",
            "    def _bump(self):\n"
            "        current = self.value\n"
            "        self.value = current + 1\n"
            "\n"
            "    def increment(self):\n"
            "        with self.lock:\n"
            "            self._bump()",
        ),
    ),
    Alternative(
        "withdraw-solution",
        "acquire/release in try/finally, early returns",
        account(
            "account.lock.acquire()\n"
            "try:\n"
            "    if account.balance < amount:\n"
            "        return False\n"
            "    account.balance -= amount\n"
            "    return True\n"
            "finally:\n"
            "    account.lock.release()"
        ),
    ),
    Alternative(
        "withdraw-solution",
        "one return: decide under the lock, then report",
        account(
            "with account.lock:\n"
            "    current = account.balance\n"
            "    ok = current >= amount\n"
            "    if ok:\n"
            "        account.balance = current - amount\n"
            "return ok"
        ),
    ),
]
