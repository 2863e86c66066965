"""Record what concurrent workers do, then draw it as a timeline.

A :class:`Timeline` collects *spans*: ``(lane, state, start, end, label)``.
A lane is one worker (a thread, a process, a greenlet or an asyncio task),
a state says what the worker was doing ("running", "waiting for lock", ...).
``plot()`` draws one horizontal lane per worker; ``to_chrome_trace()`` exports
the same data for https://ui.perfetto.dev.

>>> from course.timeline import Timeline, RUNNING
>>> tl = Timeline()
>>> with tl.span(RUNNING, label="step 1"):
...     total = sum(range(1000))
>>> [(s.lane, s.state, s.label) for s in tl.spans]
[('MainThread', 'running', 'step 1')]
>>> fig = tl.plot(title="one step")                 # a matplotlib Figure
>>> fig = plot_compare([tl, tl], titles=["a", "b"])  # one time axis for both

Demo time scale
---------------
The environment variable ``COURSE_DEMO_TIME_SCALE`` (a float >= 0, default
1.0) multiplies the pauses of the demo sleeping helpers: ``Timeline.sleep``,
``Timeline.async_sleep`` and a process recorder's ``sleep``.  Grading kernels
set it (e.g. to 0.1) so that cells that only *show* sleeping workers run
faster; the pictures keep their shape, only the time axis shrinks.  Nothing
else is scaled: ``time.sleep``, ``asyncio.sleep``, the traced primitives'
timeouts and anything student code or a test measures keep real time.
It is read at every call, so it can be set after import;
:func:`time_scale` returns the value in force.

>>> import os
>>> os.environ["COURSE_DEMO_TIME_SCALE"] = "0"    # no demo pauses at all
>>> tl = Timeline(); tl.sleep(60, label="a minute")  # returns at once
>>> tl.spans[0].duration < 30
True
>>> del os.environ["COURSE_DEMO_TIME_SCALE"]

Modules (each imports only the ones above it in this list)
----------------------------------------------------------
``base``        states, the clock, ``Span`` and ``Mark``, the demo time scale
``lanes``       which worker is running: ``current_lane()``
``primitives``  traced drop-in Lock, RLock, Semaphore, Event, Queue
``processes``   spans from child processes (recorder and collector)
``greenlets``   greenlet switches as spans (``greenlet.settrace``)
``chrome``      Chrome trace-event JSON export and import
``draw``        matplotlib Gantt chart of one or several timelines
``recorder``    ``Timeline`` itself, which ties the helpers together
``pictures``    failure pictures from plain data, for grading messages
                (imported by its users, not by this package: ``from
                course.timeline.pictures import race_picture``)

Design rationale
----------------
* One clock for everything: ``time.perf_counter``.  On Linux it reads
  CLOCK_MONOTONIC, which is system wide, so spans measured in child processes
  line up with the parent's without any offset correction.
* The hot path is a plain ``list.append`` of a tuple (see ``recorder``).
* The lane is worked out when a span *starts*, by :func:`current_lane`, from
  the innermost kind of worker that is running: asyncio task, then greenlet,
  then thread; lanes of child processes carry the process name.  Teaching
  code never has to name its lanes.
* Child processes cannot append to the parent's list.  They buffer spans and
  send them in batches through a multiprocessing queue; a daemon thread in the
  parent drains that queue at once, so a child never blocks on a full pipe
  even when the parent joins it before calling :meth:`Timeline.collect`.
* Greenlets never call back into Python when they switch, except through
  ``greenlet.settrace``; :meth:`Timeline.greenlets` uses exactly that hook.
* Heavy imports (matplotlib, greenlet) happen inside the functions that need
  them, so ``import course.timeline`` stays cheap in child processes.
"""

from .base import (
    HOLDING_LOCK,
    QUEUE_GET,
    QUEUE_PUT,
    RUNNING,
    SLEEPING,
    STATES,
    TIME_SCALE_ENV,
    WAITING,
    WAITING_LOCK,
    Mark,
    Span,
    clock,
    time_scale,
)
from .draw import plot_compare
from .lanes import current_lane, greenlet_lane
from .recorder import Timeline

__all__ = [
    "RUNNING",
    "WAITING_LOCK",
    "HOLDING_LOCK",
    "SLEEPING",
    "QUEUE_GET",
    "QUEUE_PUT",
    "WAITING",
    "STATES",
    "Span",
    "Mark",
    "Timeline",
    "clock",
    "current_lane",
    "greenlet_lane",
    "plot_compare",
    "TIME_SCALE_ENV",
    "time_scale",
]
