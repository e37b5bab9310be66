"""Your turn is near: phones ask to be told (by Web Push or the operator's SMS / WeChat webhook)
when few people are ahead, the estimate is short, or they are called.

`alert_routes(index, notifier)` are the public routes; `Notifier.from_options(...)` builds the
notifier from `kiosk hq serve`'s options and `attach(index)` makes it follow the tickets."""
from kiosk.hq.phone.notify.notifier import Notifier, NotifyConfigError, TooManyAlerts
from kiosk.hq.phone.notify.request import AlertRefused, AlertRequest, parse_alert
from kiosk.hq.phone.notify.routes import alert_routes

__all__ = ["AlertRefused", "AlertRequest", "Notifier", "NotifyConfigError", "TooManyAlerts", "alert_routes",
           "parse_alert"]
