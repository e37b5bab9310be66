"""The screens of the touchscreen and the TV, one module each; `ui.main.KioskUi` builds them by name
and hands itself to each (`app=`). Their look is in ui/kiosk.kv
(the check-in screen's in ui/screens/check_in.kv)."""
from ui.screens.admin import AdminScreen, CounterRow, InfoRow
from ui.screens.check_in import CheckInScreen
from ui.screens.customer import CustomerScreen
from ui.screens.host import HostedScreen, ScreenHost
from ui.screens.member_codes import MemberCodes
from ui.screens.now_serving import CallRow, NowServingScreen, WaitRow
from ui.screens.pin import PinScreen
from ui.screens.result import ResultScreen
from ui.screens.vip import VipScreen

__all__ = [
    "AdminScreen", "CallRow", "CheckInScreen", "CounterRow", "CustomerScreen", "HostedScreen", "InfoRow", "MemberCodes",
    "NowServingScreen", "PinScreen", "ResultScreen", "ScreenHost", "VipScreen", "WaitRow",
]
