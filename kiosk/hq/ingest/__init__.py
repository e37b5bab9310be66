"""The boundary between the branches and HQ: every MQTT message from a branch is checked here
before it touches HQ's state or its recording.

`parse(kind, branch, payload)` decodes the payload safely (`decode.py`: a size limit before
parsing, strict UTF-8, no NaN or Infinity, no duplicate keys, bounded nesting, lists,
objects, strings and integers) and checks it against the schema of its topic kind
(`messages.py`, built from the field checks of `fields.py`): a clean typed value comes out, or
a `Rejected` error whose code is machine-readable and whose message names the field.
`split_topic()` finds the branch and the kind in a topic and refuses a branch id that is not
one (`topic.py`). The limits are one frozen `IngestLimits` (`limits.py`).
"""
from kiosk.hq.ingest.limits import IngestLimits
from kiosk.hq.ingest.messages import Alert, Event, HourlyStats, Message, Queue, Reply, Status, parse
from kiosk.hq.ingest.rejection import Rejected
from kiosk.hq.ingest.topic import BRANCH_KINDS, split_topic, valid_branch

__all__ = ["Alert", "BRANCH_KINDS", "Event", "HourlyStats", "IngestLimits", "Message", "Queue", "Rejected", "Reply",
           "Status", "parse", "split_topic", "valid_branch"]
