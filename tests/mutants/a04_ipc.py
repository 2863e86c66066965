from . import Alternative, Mutant

ASSIGNMENT = "04-ipc"

PIPELINE = """
import multiprocessing

from course.workers import STAGES, STOP, pipeline_stage, produce
{before}

def run_pipeline(items, stage="square", ctx=None):
    ctx = ctx or multiprocessing.get_context()
    todo, done = ctx.Queue(), ctx.Queue()
{body}
"""


def pipeline(body: str, before: str = "") -> str:
    indented = "\n".join("    " + ln for ln in body.strip("\n").splitlines())
    return PIPELINE.format(body=indented, before=before)


START_BOTH = (
    "producer = ctx.Process(target=produce, args=(todo, items))\n"
    "worker = ctx.Process(target=pipeline_stage, args=(todo, done, stage))\n"
    "producer.start()\n"
    "worker.start()\n"
)
DRAIN = "results = []\nwhile (item := done.get()) is not STOP:\n    results.append(item)\n"
JOIN = "producer.join()\nworker.join()\n"

MUTANTS = [
    Mutant(
        "pipeline-solution",
        "worker defined in the notebook (works under fork only)",
        pipeline(
            "producer = ctx.Process(target=produce, args=(todo, items))\n"
            "worker = ctx.Process(target=my_stage, args=(todo, done, stage))\n"
            "producer.start()\n"
            "worker.start()\n" + DRAIN + JOIN + "return results",
            before=(
                "\n\ndef my_stage(inbox, outbox, stage):\n"
                "    while (item := inbox.get()) is not STOP:\n"
                "        outbox.put(STAGES[stage](item))\n"
                "    outbox.put(STOP)\n"
            ),
        ),
        ("pipeline-tests",),
        expect="Can't get attribute 'my_stage'",
    ),
    Mutant(
        "pipeline-solution",
        "joins before draining the results (deadlock on a full pipe)",
        pipeline(START_BOTH + JOIN + DRAIN + "return results"),
        ("pipeline-tests",),
        expect="Timed out",
    ),
    Mutant(
        "pipeline-solution",
        "stops at the first falsy result instead of the sentinel",
        pipeline(
            START_BOTH
            + "results = []\nwhile item := done.get():\n    results.append(item)\n"
            + JOIN
            + "return results"
        ),
        ("pipeline-tests",),
        expect="got []",
    ),
    Mutant(
        "pipeline-solution",
        "no producer process (the caller puts the items)",
        pipeline(
            "worker = ctx.Process(target=pipeline_stage, args=(todo, done, stage))\n"
            "worker.start()\n"
            "produce(todo, items)\n" + DRAIN + "worker.join()\nreturn results"
        ),
        ("pipeline-tests",),
        expect="expected a producer and a worker",
    ),
    Mutant(
        "pipeline-solution",
        "reads while the queue is not empty (returns before the results arrive)",
        pipeline(
            START_BOTH
            + "results = []\nwhile not done.empty():\n    results.append(done.get())\n"
            + JOIN
            + "return [r for r in results if r is not STOP]"
        ),
        ("pipeline-tests",),
        expect="expected",
    ),
    Mutant(
        "pipeline-solution",
        "computes in the caller while two processes do nothing",
        pipeline(
            "idle = [ctx.Process(target=produce, args=(ctx.Queue(), [])) for _ in range(2)]\n"
            "for p in idle:\n"
            "    p.start()\n"
            "for p in idle:\n"
            "    p.join()\n"
            "return [STAGES[stage](x) for x in items]"
        ),
        ("pipeline-tests",),
        expect="computed in the calling process",
        kind="cheat",
    ),
    Mutant(
        "pipeline-solution",
        "the caller puts the items while an idle producer process satisfies the count",
        pipeline(
            "producer = ctx.Process(target=produce, args=(ctx.Queue(), []))\n"
            "worker = ctx.Process(target=pipeline_stage, args=(todo, done, stage))\n"
            "producer.start()\n"
            "worker.start()\n"
            "produce(todo, items)\n" + DRAIN + JOIN + "return results"
        ),
        ("pipeline-tests",),
        expect="items put by the calling process",
        kind="cheat",
    ),
    Mutant(
        "pipeline-solution",
        "ignores ctx and forces fork",
        pipeline(
            'ctx = multiprocessing.get_context("fork")\n'
            "todo, done = ctx.Queue(), ctx.Queue()\n" + START_BOTH + DRAIN + JOIN + "return results"
        ),
        ("pipeline-tests",),
        expect="expected a producer and a worker",
        kind="cheat",
    ),
]

ALTERNATIVES = [
    Alternative(
        "pipeline-solution",
        "iter(done.get, STOP) and joins in a finally",
        pipeline(
            "processes = [\n"
            "    ctx.Process(target=produce, args=(todo, items)),\n"
            "    ctx.Process(target=pipeline_stage, args=(todo, done, stage)),\n"
            "]\n"
            "for p in processes:\n"
            "    p.start()\n"
            "try:\n"
            "    return list(iter(done.get, STOP))\n"
            "finally:\n"
            "    for p in processes:\n"
            "        p.join()"
        ),
    ),
    Alternative(
        "pipeline-solution",
        "worker started first, a counting loop with break",
        pipeline(
            "worker = ctx.Process(target=pipeline_stage, args=(todo, done, stage), daemon=True)\n"
            "worker.start()\n"
            "producer = ctx.Process(target=produce, args=(todo, list(items)), daemon=True)\n"
            "producer.start()\n"
            "results = []\n"
            "while True:\n"
            "    item = done.get()\n"
            "    if item is None:\n"
            "        break\n"
            "    results.append(item)\n"
            "for p in (worker, producer):\n"
            "    p.join()\n"
            "return results"
        ),
    ),
]
