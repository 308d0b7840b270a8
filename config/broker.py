"""kombu's filesystem transport (the broker that needs no server), with whole messages.

kombu 5.x creates a message file under its final name, then writes it. A worker that
lists the folder in between takes the file, reads it empty and dies on the JSON
("Expecting value: line 1 column 1 (char 0)", the symptom of celery/kombu#1551), and a busy
queue makes that likely (docs/traps.md#the-filesystem-transport-can-hand-out-a-half-written-message).
Here a message is written under a temporary name, which the reader skips (it takes only
``<time>_<uuid>.<queue>.msg``), and renamed into place, atomic in one folder: a reader sees
a whole message or none.

Importing this module makes ``filesystem://`` mean this transport (``config.celery`` does).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    # kombu's own signature, which its base classes' stubs disagree with.
    def _put(self, queue: Any, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Put ``payload`` onto ``queue``: written aside, then renamed into the queue."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f"{uuid.uuid4()}.partial")
        try:
            with open(partial, "wb", buffering=0) as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES["filesystem"] = f"{__name__}:Transport"
