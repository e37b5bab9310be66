"""The customer's phone pages in Chinese and English: every word the pages show.

The page scripts get their language's table as JSON (``data-phone`` on ``<body>``); ``{n}``,
``{m}``, ``{c}``, ``{t}`` … are filled in by the scripts, always as text.
"""
from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "brand": "排队助手", "other_lang": "English", "follow_title": "我的排队", "branches_title": "网点与线上取号",
        "live": "实时", "offline": "离线", "loading": "正在加载…", "not_found": "找不到这张票，可能已过期。",
        "service": "业务 {s}", "ahead_n": "你前面还有 {n} 人", "ahead_0": "下一位就是你", "estimate": "预计约 {m} 分钟",
        "estimate_h": "预计约 {h} 小时 {m} 分钟", "estimate_soon": "马上就到你", "called": "请到{c}号窗口",
        "called_sub": "叫到你了，请前往办理", "serving": "正在{c}号窗口办理", "done": "已办理完毕，谢谢光临",
        "noshow": "叫号时你未到场，此票已过号", "expired": "此票已失效", "cancelled": "此票已取消",
        "parked": "请到网点自助机签到后才会被叫号", "parked_code": "签到码", "parked_by": "请在 {t} 前签到",
        "parked_scan": "到网点后在自助机触摸屏上输入签到码即可签到", "latest_calls": "最近叫号",
        "call_row": "{c}号窗口", "no_calls": "暂无叫号", "updated": "更新于 {t}",
        "alerts_title": "快到我时提醒我", "alert_ahead": "前面剩这么多人时", "alert_minutes": "预计少于这么多分钟时",
        "alert_on_call": "叫到我时", "alert_phone": "手机号（短信/微信通知，可不填）",
        "alert_phone_note": "手机号只保留到今天营业结束。", "alert_push": "在本机推送通知",
        "alert_save": "保存提醒", "alert_saved": "已设置提醒", "alert_saving": "正在保存…",
        "alert_error": "提醒设置失败：{m}", "alert_nothing": "请至少选择一种提醒条件和一种通知方式。",
        "push_on": "推送通知已开启", "push_unsupported": "此浏览器不支持推送通知",
        "push_denied": "通知权限未获允许", "network_error": "网络错误，请稍后再试",
        "near_first": "离你最近的排在前面", "no_location": "未获得你的位置，按名称排列", "km": "{d} 公里",
        "online": "在线", "branch_offline": "网点离线", "waiting": "等候 {n} 人",
        "take": "线上取号", "taking": "正在取号…", "no_remote": "不支持线上取号", "no_branches": "暂无网点",
        "your_ticket": "你的号码", "check_in_code": "签到码", "check_in_by": "请在 {t} 前到网点自助机签到",
        "follow_link": "查看排队进度", "take_error": "取号失败：{m}", "ahead_est": "前面 {n} 人 · {e}",
        "service_row": "{s} · 等候 {n} 人",
    },
    "en": {
        "brand": "Queue", "other_lang": "中文", "follow_title": "Your ticket", "branches_title": "Branches · take a ticket",
        "live": "live", "offline": "offline", "loading": "Loading…",
        "not_found": "This ticket was not found; it may have expired.",
        "service": "Service {s}", "ahead_n": "{n} people ahead of you", "ahead_1": "1 person ahead of you",
        "ahead_0": "You are next", "estimate": "about {m} min", "estimate_h": "about {h} h {m} min",
        "estimate_soon": "any moment now", "called": "Please go to counter {c}",
        "called_sub": "It is your turn", "serving": "Being served at counter {c}", "done": "Done — thank you",
        "noshow": "You were called but did not come: this ticket was missed",
        "expired": "This ticket has expired", "cancelled": "This ticket was cancelled",
        "parked": "Check in at the branch's kiosk to be called", "parked_code": "Check-in code",
        "parked_by": "Check in before {t}",
        "parked_scan": "At the branch, type the check-in code on the kiosk's touchscreen",
        "latest_calls": "Latest calls", "call_row": "counter {c}", "no_calls": "No calls yet",
        "updated": "Updated {t}", "alerts_title": "Tell me when my turn is near",
        "alert_ahead": "When this many people are ahead", "alert_minutes": "When under this many minutes",
        "alert_on_call": "When I am called", "alert_phone": "Phone number (SMS/WeChat, optional)",
        "alert_phone_note": "Your number is kept only until today's business ends.",
        "alert_push": "Notify me on this phone", "alert_save": "Save alerts", "alert_saved": "Alerts set",
        "alert_saving": "Saving…", "alert_error": "Could not set alerts: {m}",
        "alert_nothing": "Choose at least one condition and one way to be told.",
        "push_on": "Notifications on", "push_unsupported": "This browser cannot show push notifications",
        "push_denied": "Notifications were not allowed", "network_error": "Network error, please try again",
        "near_first": "Nearest first", "no_location": "No location: sorted by name", "km": "{d} km",
        "online": "online", "branch_offline": "offline", "waiting": "{n} waiting",
        "take": "Take a ticket", "taking": "Taking a ticket…", "no_remote": "no remote tickets",
        "no_branches": "No branches", "your_ticket": "Your ticket", "check_in_code": "Check-in code",
        "check_in_by": "Check in at the branch's kiosk before {t}", "follow_link": "Follow your ticket",
        "take_error": "Could not take a ticket: {m}", "ahead_est": "{n} ahead · {e}",
        "service_row": "{s} · {n} waiting",
    },
}
