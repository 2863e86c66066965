"""Process targets for notebook 04's shared state: private copies, ``Value``, ``Array``,
``Manager`` proxies and ``multiprocessing.shared_memory``.

>>> import multiprocessing
>>> counter = multiprocessing.get_context("spawn").Value("i", 0)
>>> add_many(counter, 10); counter.value
10
"""

from __future__ import annotations

import multiprocessing
from multiprocessing import shared_memory

#: A module-level list: each process has its own copy (notebook 04, section 1).
shopping_list: list = []


def add_to_shopping_list(item: str) -> list:
    """Append ``item`` to this process's :data:`shopping_list`, print and return it.

    >>> add_to_shopping_list("tea")
    in process MainProcess the list is ['tea']
    ['tea']
    >>> shopping_list.clear()
    """
    shopping_list.append(item)
    print(
        f"in process {multiprocessing.current_process().name} the list is {shopping_list}",
        flush=True,
    )
    return shopping_list


def add_many(counter, times: int, use_lock: bool = True) -> None:
    """Add 1 to ``counter.value`` ``times`` times (a ``multiprocessing.Value``),
    holding ``counter.get_lock()`` around each read-add-write when ``use_lock``.

    >>> import multiprocessing
    >>> c = multiprocessing.Value("i", 0)
    >>> add_many(c, 1000); c.value
    1000
    """
    if use_lock:
        for _ in range(times):
            with counter.get_lock():
                counter.value += 1
    else:
        for _ in range(times):
            counter.value += 1


def fill_squares(array, start: int, stop: int) -> None:
    """Write ``i * i`` into ``array[i]`` for ``i`` in ``range(start, stop)``
    (a ``multiprocessing.Array``: each process fills its own slice, no lock needed).

    >>> import multiprocessing
    >>> a = multiprocessing.Array("i", 4)
    >>> fill_squares(a, 0, 4); a[:]
    [0, 1, 4, 9]
    """
    for i in range(start, stop):
        array[i] = i * i


def record_square(shared: dict, x: int) -> None:
    """``shared[x] = x * x`` (``shared`` is a ``Manager().dict()`` proxy, or a dict).

    >>> d = {}; record_square(d, 3); d
    {3: 9}
    """
    shared[x] = x * x


def square_block(name: str, start: int, stop: int) -> None:
    """Square the 64-bit integers ``start:stop`` of the shared memory block called
    ``name``, in place.  The block is attached by name, so this works in any process;
    its creator keeps ownership (closes and unlinks it).

    >>> from array import array
    >>> from multiprocessing import shared_memory
    >>> block = shared_memory.SharedMemory(create=True, size=4 * 8)
    >>> numbers = block.buf.cast("q"); numbers[:] = array("q", [1, 2, 3, 20])
    >>> square_block(block.name, 0, 4); numbers.tolist()
    [1, 4, 9, 400]
    >>> numbers.release(); block.close(); block.unlink()
    """
    block = shared_memory.SharedMemory(name=name)
    numbers = block.buf.cast("q")  # a view of the same bytes as signed 64-bit integers
    try:
        for i in range(start, stop):
            numbers[i] = numbers[i] * numbers[i]
    finally:
        numbers.release()  # close() refuses while a view of the buffer is alive
        block.close()
