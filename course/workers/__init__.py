"""Importable process targets for the notebooks, one module per job.

A function defined in a notebook cannot be a multiprocessing target under the
``spawn`` and ``forkserver`` start methods: the child imports the target by
name and a notebook is not importable.  Everything here lives in a module,
takes picklable arguments, and so works under fork, forkserver and spawn.

- :mod:`course.workers.base` -- ``STOP`` (the end-of-stream sentinel) and ``flush``;
- :mod:`course.workers.compute` -- CPU-bound work, traced variants, pool recorders (01-03);
- :mod:`course.workers.lifecycle` -- a process's life: ``greet``, ``Greeter``, ``nap`` ... (03);
- :mod:`course.workers.stderr` -- ``capture_stderr``: show a child's traceback in a notebook;
- :mod:`course.workers.messages` -- queue and pipe stages, ``STAGES`` (04);
- :mod:`course.workers.shared` -- private copies, ``Value``/``Array``, managers, shared memory (04);
- :mod:`course.workers.probes` -- instruments the hidden tests of 03 and 04 measure with.

The names notebooks use are importable from the package itself:

>>> import multiprocessing
>>> from course.workers import square
>>> with multiprocessing.get_context("spawn").Pool(2) as pool:
...     pool.map(square, range(5))
[0, 1, 4, 9, 16]
"""

from course.workers.base import STOP, flush
from course.workers.compute import (
    chunks_traced,
    count_primes,
    count_primes_range,
    cpu_work,
    cpu_work_traced,
    install_recorder,
    is_prime,
    pooled_count_primes,
    pooled_cpu_work,
    sleepy_work,
    square,
    usable_cores,
    whoami,
)
from course.workers.lifecycle import Greeter, crash, greet, nap
from course.workers.messages import (
    STAGES,
    consume,
    pipe_echo,
    pipeline_stage,
    produce,
    produce_traced,
    square_traced,
)
from course.workers.shared import (
    add_many,
    add_to_shopping_list,
    fill_squares,
    record_square,
    square_block,
)
from course.workers.stderr import capture_stderr

__all__ = [
    "STAGES",
    "STOP",
    "Greeter",
    "add_many",
    "add_to_shopping_list",
    "capture_stderr",
    "chunks_traced",
    "consume",
    "count_primes",
    "count_primes_range",
    "cpu_work",
    "cpu_work_traced",
    "crash",
    "fill_squares",
    "flush",
    "greet",
    "install_recorder",
    "is_prime",
    "nap",
    "pipe_echo",
    "pipeline_stage",
    "pooled_count_primes",
    "pooled_cpu_work",
    "produce",
    "produce_traced",
    "record_square",
    "sleepy_work",
    "square",
    "square_block",
    "square_traced",
    "usable_cores",
    "whoami",
]
