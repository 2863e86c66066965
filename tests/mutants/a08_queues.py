from . import Alternative, Mutant

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
    Mutant(
        "kitchen-solution",
        "the caller puts every baozi itself (no chef threads)",
        kitchen("""
eaten = []

def customer():
    while True:
        baozi = q.get()
        if baozi is None:
            return
        eaten.append(eat(baozi))

customers = [threading.Thread(target=customer) for _ in range(n_customers)]
for t in customers:
    t.start()
for batch in batches:  # the chefs' work, done here
    for baozi in batch:
        q.put(baozi)
for _ in customers:
    q.put(None)
for t in customers:
    t.join()
return eaten
"""),
        ("kitchen-tests",),
        expect="not by the caller of kitchen()",
        kind="cheat",
    ),
    Mutant(
        "kitchen-solution",
        "customers only take the baozi; the caller eats them all afterwards",
        kitchen("""
taken = []

def chef(batch):
    for baozi in batch:
        q.put(baozi)

def customer():
    while (baozi := q.get()) is not None:
        taken.append(baozi)

chefs = [threading.Thread(target=chef, args=(b,)) for b in batches]
customers = [threading.Thread(target=customer) for _ in range(n_customers)]
for t in chefs + customers:
    t.start()
for t in chefs:
    t.join()
for _ in customers:
    q.put(None)
for t in customers:
    t.join()
return [eat(baozi) for baozi in taken]
"""),
        ("kitchen-tests",),
        expect="customer threads to call eat()",
        kind="cheat",
    ),
    Mutant(
        "kitchen-solution",
        "customers started with _thread, never stopped (q.join() instead of sentinels)",
        kitchen("""
import _thread

eaten = []

def chef(batch):
    for baozi in batch:
        q.put(baozi)

def customer():
    while True:
        baozi = q.get()
        eaten.append(eat(baozi))
        q.task_done()

for _ in range(n_customers):
    _thread.start_new_thread(customer, ())
chefs = [threading.Thread(target=chef, args=(b,)) for b in batches]
for t in chefs:
    t.start()
for t in chefs:
    t.join()
q.join()
return eaten
"""),
        ("kitchen-tests",),
        expect="still running",
        kind="cheat",
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
        expect="its capacity",
    ),
    Mutant(
        "bounded-solution",
        "get() never notifies waiting producers",
        bounded(get=GET.replace("    self.not_full.notify()\n", "")),
        ("bounded-tests",),
        expect="expected the waiting put() to finish",
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
        expect="its capacity",
    ),
    Mutant(
        "bounded-solution",
        "never notifies: polls with wait(timeout=0.01)",
        bounded(
            put="""
with self.not_full:
    while len(self.items) >= self.capacity:
        self.not_full.wait(timeout=0.01)
    self.items.append(item)
""",
            get="""
with self.not_empty:
    while not self.items:
        self.not_empty.wait(timeout=0.01)
    return self.items.popleft()
""",
        ),
        ("bounded-tests",),
        expect="nobody notified",
        kind="cheat",
    ),
    Mutant(
        "bounded-solution",
        "a private queue.Queue does the work; self.items is never used",
        bounded(
            put="""
import queue

if not hasattr(self, "_real"):
    self._real = queue.Queue(self.capacity)
self._real.put(item)
""",
            get="""
import queue

if not hasattr(self, "_real"):
    self._real = queue.Queue(self.capacity)
return self._real.get()
""",
        ),
        ("bounded-tests",),
        expect="items []",
        kind="cheat",
    ),
]

ALTERNATIVES = [
    Alternative(
        "kitchen-solution",
        "a ThreadPoolExecutor for chefs and customers",
        kitchen("""
from concurrent.futures import ThreadPoolExecutor

done = object()

def chef(batch):
    for baozi in batch:
        q.put(baozi)

def customer():
    mine = []
    while (baozi := q.get()) is not done:
        mine.append(eat(baozi))
    return mine

with ThreadPoolExecutor(max_workers=len(batches) + n_customers) as pool:
    eaters = [pool.submit(customer) for _ in range(n_customers)]
    chefs = [pool.submit(chef, batch) for batch in batches]
    for c in chefs:
        c.result()
    for _ in range(n_customers):
        q.put(done)
    return [x for e in eaters for x in e.result()]
"""),
    ),
    Alternative(
        "kitchen-solution",
        "one sentinel passed on by every customer, a lock around the results",
        kitchen("""
last = object()
eaten = []
lock = threading.Lock()

def chef(batch):
    for baozi in batch:
        q.put(baozi)

def customer():
    while True:
        baozi = q.get()
        if baozi is last:
            q.put(last)  # pass the news on to the next customer
            return
        result = eat(baozi)
        with lock:
            eaten.append(result)

customers = [threading.Thread(target=customer) for _ in range(n_customers)]
chefs = [threading.Thread(target=chef, args=(b,)) for b in batches]
for t in customers + chefs:
    t.start()
try:
    for t in chefs:
        t.join()
finally:
    q.put(last)
for t in customers:
    t.join()
return eaten
"""),
    ),
    Alternative(
        "bounded-solution",
        "notify_all on both conditions",
        bounded(
            put=PUT.replace("self.not_empty.notify()", "self.not_empty.notify_all()"),
            get=GET.replace("self.not_full.notify()", "self.not_full.notify_all()"),
        ),
    ),
    Alternative(
        "bounded-solution",
        "wait_for with a predicate, acquire/release in try/finally",
        bounded(
            put="""
self.not_full.acquire()
try:
    self.not_full.wait_for(lambda: len(self.items) < self.capacity)
    self.items.append(item)
    self.not_empty.notify()
finally:
    self.not_full.release()
""",
            get="""
self.not_empty.acquire()
try:
    self.not_empty.wait_for(lambda: len(self.items) > 0)
    item = self.items.popleft()
    self.not_full.notify()
finally:
    self.not_empty.release()
return item
""",
        ),
    ),
    Alternative(
        "bounded-solution",
        "notifies, and waits with a timeout as a safety net",
        bounded(
            put=PUT.replace("self.not_full.wait()", "self.not_full.wait(timeout=1.0)"),
            get=GET.replace("self.not_empty.wait()", "self.not_empty.wait(timeout=1.0)"),
        ),
    ),
]
