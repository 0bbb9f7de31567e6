"""Which of Lambic's own event modules an environment finds already imported: read as
the environment imports this module (its init), before it imports anything itself."""

import sys

EVENT_MODULES = ("lambic.app.event_sources", "lambic.app.events", "lambic.app.schedules")
AT_INIT = [name for name in EVENT_MODULES if name in sys.modules]


def handler(event, context):
    return AT_INIT
