"""The filesystem broker (the default without Redis) never hands a worker half a message.

kombu's own transport creates a message file under its final name before writing it; a
consumer listing the folder in that instant read it empty and the worker died
(``config.broker``). That instant is too short to hit on demand, so the second test looks
at the queue from inside it (and fails on kombu's transport); the first one runs our
transport end to end, a writer process publishing while this process consumes over the
same folders, as gunicorn and the worker do: every message arrives, whole, once.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from queue import Empty
from typing import Any

import pytest
from kombu import Connection

import config.broker  # filesystem:// is ours, as in every process of the product

MESSAGES = 3000


def options(folder: Path) -> dict[str, Any]:
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(exist_ok=True)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }


def publish(folder: str, count: int) -> None:
    import config.broker  # noqa: F401  (a fresh interpreter: spawn)

    with Connection("filesystem://", transport_options=options(Path(folder))) as conn:
        queue = conn.SimpleQueue("probe")
        for i in range(count):
            queue.put({"n": i, "pad": "x" * 2000})
        queue.close()


def test_a_consumer_racing_a_publisher_gets_every_message_whole(tmp_path: Path) -> None:
    writer = multiprocessing.get_context("spawn").Process(target=publish, args=(str(tmp_path), MESSAGES))
    writer.start()
    received: list[int] = []
    try:
        with Connection("filesystem://", transport_options=options(tmp_path)) as conn:
            assert type(conn.transport) is config.broker.Transport
            queue = conn.SimpleQueue("probe")
            while len(received) < MESSAGES:
                try:
                    message = queue.get(block=True, timeout=30)
                except Empty:
                    pytest.fail(f"{len(received)} of {MESSAGES} messages after 30 s without one")
                received.append(message.payload["n"])
                message.ack()
            queue.close()
    finally:
        writer.join(timeout=60)
    assert writer.exitcode == 0
    assert sorted(received) == list(range(MESSAGES))
    assert not list((tmp_path / "queue").iterdir())  # no partial file left behind


def test_no_message_file_is_in_the_queue_before_its_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The instant a consumer could see: while the message is being serialized and written."""
    seen_while_writing: list[list[str]] = []
    real_dumps = config.broker.dumps

    def dumps_and_look(payload: Any) -> str:
        if isinstance(payload, dict) and "body" in payload:  # a message (not the bindings table)
            seen_while_writing.append(sorted(p.name for p in (tmp_path / "queue").glob("*.msg")))
        return real_dumps(payload)

    # Whichever module the transport in use writes from.
    monkeypatch.setattr(config.broker, "dumps", dumps_and_look)
    monkeypatch.setattr("kombu.transport.filesystem.dumps", dumps_and_look)
    with Connection("filesystem://", transport_options=options(tmp_path)) as conn:
        queue = conn.SimpleQueue("probe-instant")
        for i in range(3):
            queue.put({"n": i})
        # While message i was written, only the i messages before it were in the queue.
        assert [len(names) for names in seen_while_writing] == [0, 1, 2]
        assert sorted(queue.get(timeout=5).payload["n"] for _ in range(3)) == [0, 1, 2]
        queue.close()
