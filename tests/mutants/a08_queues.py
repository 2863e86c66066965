from . import Mutant

ASSIGNMENT = "08-queues"

# ---------------------------------------------------------------- Exercise 1: kitchen

KITCHEN = """
import queue
import threading


def kitchen(q, batches, eat, n_customers):
{body}
"""


def kitchen(body: str) -> str:
    return KITCHEN.format(body="\n".join("    " + ln for ln in body.strip("\n").splitlines()))


SENTINELS = """
eaten = []

def chef(batch):
    for baozi in batch:
        q.put(baozi)

def customer():
    while True:
        baozi = q.get()
        if baozi is None:
            return
        eaten.append(eat(baozi))

chefs = [threading.Thread(target=chef, args=(b,)) for b in batches]
customers = [threading.Thread(target=customer) for _ in range(n_customers)]
{run}
return eaten
"""

START_ALL = """
for t in chefs + customers:
    t.start()
"""


def sentinels(run: str) -> str:
    return kitchen(SENTINELS.format(run=run.strip("\n")))


MUTANTS = [
    Mutant(
        "kitchen-solution",
        "empty() then get() (the tutorial's check)",
        kitchen("""
eaten = []
chefs_done = threading.Event()

def chef(batch):
    for baozi in batch:
        q.put(baozi)

def customer():
    while True:
        if not q.empty():
            eaten.append(eat(q.get()))
        elif chefs_done.is_set():
            return

chefs = [threading.Thread(target=chef, args=(b,)) for b in batches]
customers = [threading.Thread(target=customer) for _ in range(n_customers)]
for t in chefs + customers:
    t.start()
for t in chefs:
    t.join()
chefs_done.set()
for t in customers:
    t.join()
return eaten
"""),
        ("kitchen-tests",),
        expect="Timed out",
    ),
    Mutant(
        "kitchen-solution",
        "customers stop when the queue looks empty",
        kitchen("""
eaten = []

def chef(batch):
    for baozi in batch:
        q.put(baozi)

def customer():
    while not q.empty():
        eaten.append(eat(q.get()))

chefs = [threading.Thread(target=chef, args=(b,)) for b in batches]
customers = [threading.Thread(target=customer) for _ in range(n_customers)]
for t in chefs + customers:
    t.start()
for t in chefs + customers:
    t.join()
return eaten
"""),
        ("kitchen-tests",),
        expect="",  # times out in the visible test or loses the baozi in a hidden one
    ),
    Mutant(
        "kitchen-solution",
        "one sentinel for several customers",
        sentinels(
            START_ALL
            + """
for t in chefs:
    t.join()
q.put(None)
for t in customers:
    t.join()
"""
        ),
        ("kitchen-tests",),
        expect="Timed out",
    ),
    Mutant(
        "kitchen-solution",
        "no sentinel: customers never stop",
        kitchen("""
eaten = []

def chef(batch):
    for baozi in batch:
        q.put(baozi)

def customer():
    while True:
        eaten.append(eat(q.get()))

chefs = [threading.Thread(target=chef, args=(b,)) for b in batches]
customers = [threading.Thread(target=customer) for _ in range(n_customers)]
for t in chefs + customers:
    t.start()
for t in chefs + customers:
    t.join()
return eaten
"""),
        ("kitchen-tests",),
        expect="Timed out",
    ),
    Mutant(
        "kitchen-solution",
        "q.join() but customers never call task_done()",
        sentinels(
            START_ALL
            + """
for t in chefs:
    t.join()
q.join()
for _ in customers:
    q.put(None)
for t in customers:
    t.join()
"""
        ),
        ("kitchen-tests",),
        expect="task_done",
    ),
    Mutant(
        "kitchen-solution",
        "daemon customers left running (task_done + join, no stop)",
        kitchen("""
eaten = []

def chef(batch):
    for baozi in batch:
        q.put(baozi)

def customer():
    while True:
        baozi = q.get()
        eaten.append(eat(baozi))
        q.task_done()

chefs = [threading.Thread(target=chef, args=(b,)) for b in batches]
customers = [threading.Thread(target=customer, daemon=True) for _ in range(n_customers)]
for t in chefs + customers:
    t.start()
for t in chefs:
    t.join()
q.join()
return eaten
"""),
        ("kitchen-tests",),
        expect="still running",
    ),
    Mutant(
        "kitchen-solution",
        "chefs joined before customers start (bounded queue fills up)",
        sentinels("""
for t in chefs:
    t.start()
for t in chefs:
    t.join()
for t in customers:
    t.start()
for _ in customers:
    q.put(None)
for t in customers:
    t.join()
"""),
        ("kitchen-tests",),
        expect="Timed out",
    ),
    Mutant(
        "kitchen-solution",
        "sentinels put before the chefs finish",
        sentinels(
            START_ALL
            + """
for _ in customers:
    q.put(None)
for t in chefs:
    t.join()
for t in customers:
    t.join()
"""
        ),
        ("kitchen-tests",),
        expect="",  # times out, or the customers leave before the baozi arrive
    ),
]

# ---------------------------------------------------------------- Exercise 2: BoundedQueue

BOUNDED = """
import collections
import threading


class BoundedQueue:
    def __init__(self, capacity):
        self.capacity = capacity
        self.items = collections.deque()
        self.mutex = threading.Lock()
        self.not_empty = threading.Condition(self.mutex)
        self.not_full = threading.Condition(self.mutex)

    def put(self, item):
{put}

    def get(self):
{get}
"""

PUT = """
with self.not_full:
    while len(self.items) >= self.capacity:
        self.not_full.wait()
    self.items.append(item)
    self.not_empty.notify()
"""

GET = """
with self.not_empty:
    while not self.items:
        self.not_empty.wait()
    item = self.items.popleft()
    self.not_full.notify()
    return item
"""


def bounded(put: str = PUT, get: str = GET) -> str:
    def indent(body):
        return "\n".join("        " + ln for ln in body.strip("\n").splitlines())

    return BOUNDED.format(put=indent(put), get=indent(get))


MUTANTS += [
    Mutant(
        "bounded-solution",
        "`if` instead of `while` around wait() in get",
        bounded(get=GET.replace("while not self.items", "if not self.items")),
        ("bounded-tests",),
        expect="IndexError",
    ),
    Mutant(
        "bounded-solution",
        "`if` instead of `while` around wait() in put",
        bounded(put=PUT.replace("while len", "if len")),
        ("bounded-tests",),
        expect="more than its capacity",
    ),
    Mutant(
        "bounded-solution",
        "get() never notifies waiting producers",
        bounded(get=GET.replace("    self.not_full.notify()\n", "")),
        ("bounded-tests",),
        expect="the waiting put() should finish",
    ),
    Mutant(
        "bounded-solution",
        "notify only when the queue was empty (one wake-up for several waiters)",
        bounded(
            put=PUT.replace(
                "    self.not_empty.notify()",
                "    if len(self.items) == 1:\n        self.not_empty.notify()",
            )
        ),
        ("bounded-tests",),
        expect="deadlock",
    ),
    Mutant(
        "bounded-solution",
        "one condition for both sides with notify() (wakes the wrong kind of thread)",
        bounded(
            put=PUT.replace("self.not_full", "self.not_empty"),
            get=GET.replace("self.not_full", "self.not_empty"),
        ),
        ("bounded-tests",),
        expect="deadlock",
    ),
    Mutant(
        "bounded-solution",
        "append outside the lock (check, release, then act)",
        bounded(
            put="""
with self.not_full:
    while len(self.items) >= self.capacity:
        self.not_full.wait()
self.items.append(item)
with self.not_empty:
    self.not_empty.notify()
"""
        ),
        ("bounded-tests",),
        expect="more than its capacity",
    ),
]
