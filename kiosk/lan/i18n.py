"""The hall pages' words in Chinese and English (``?lang=zh|en``; default from the browser)."""
from __future__ import annotations

LANGS = ("zh", "en")

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "caller": "Counter caller", "floor": "Floor guide", "lang": "中文", "clerk": "Clerk ID", "pin": "PIN",
        "counter": "Counter", "manager": "Hall manager (admin PIN)", "sign_in": "Sign in", "sign_out": "Sign out",
        "none": "—", "call_next": "Call next", "call_number": "Call number", "recall": "Recall",
        "noshow": "No-show", "start": "Start", "finish": "Finish", "transfer": "Transfer", "pause": "Pause",
        "open": "Open", "close": "Close", "to_service": "to service", "to_counter": "to counter",
        "to_clerk": "to clerk", "note": "Note", "reason": "Reason", "current": "At the counter",
        "nobody": "Nobody at the counter", "waiting": "Waiting", "waited": "waited", "today": "My day",
        "served": "Served", "mean_time": "Mean time at the counter", "p90_time": "90 % served within",
        "within_target": "Within target", "satisfaction": "Satisfaction", "ratings": "Ratings",
        "noshows": "No-shows", "state": "State", "state_open": "open", "state_paused": "paused",
        "state_closed": "closed", "hall": "The hall", "service": "Service", "longest": "Longest wait",
        "estimate": "Estimate", "counters": "Counters", "alert": "Alert", "no_alert": "No alert",
        "suggest": "Suggested", "open_more": "open {n} more counter(s)", "issue": "Issue a ticket",
        "tier": "Priority", "normal": "normal", "assisted": "Assisted / elderly", "print": "Print on the kiosk",
        "qr": "Show a QR code", "issued": "Ticket issued", "ahead": "ahead", "live": "live",
        "offline": "reconnecting…", "form": "Pre-acceptance", "yes": "yes", "no": "no", "min": "min",
        "nobody_waits": "Nobody waits for this counter.", "priority": "priority", "reserved_counter": "reserved for this counter", "reserved_clerk": "reserved for you", "floor_role": "on the floor",
        "devices": "Device faults", "unavailable": "not issuing", "t_called": "called", "t_serving": "in service",
    },
    "zh": {
        "caller": "窗口叫号", "floor": "大堂引导", "lang": "EN", "clerk": "工号", "pin": "密码",
        "counter": "窗口", "manager": "大堂经理（管理员密码）", "sign_in": "登录", "sign_out": "退出",
        "none": "—", "call_next": "顺呼", "call_number": "选呼", "recall": "重呼", "noshow": "过号",
        "start": "开始办理", "finish": "办结", "transfer": "转移", "pause": "暂停", "open": "开放",
        "close": "关闭", "to_service": "转业务", "to_counter": "转窗口", "to_clerk": "转柜员", "note": "备注",
        "reason": "原因", "current": "当前客户", "nobody": "当前无客户", "waiting": "等候", "waited": "已等",
        "today": "我的今日", "served": "已办结", "mean_time": "平均临柜时长", "p90_time": "90%客户临柜时长不超过",
        "within_target": "达标率", "satisfaction": "满意度", "ratings": "评价数", "noshows": "过号",
        "state": "状态", "state_open": "开放", "state_paused": "暂停", "state_closed": "关闭", "hall": "大厅概况",
        "service": "业务", "longest": "最长等候", "estimate": "预计等候", "counters": "窗口",
        "alert": "预警", "no_alert": "无预警", "suggest": "建议", "open_more": "再开 {n} 个窗口",
        "issue": "代客取号", "tier": "优先级", "normal": "普通", "assisted": "协助 / 老年客户",
        "print": "在取号机打印", "qr": "显示二维码", "issued": "已取号", "ahead": "人在前",
        "live": "实时", "offline": "重新连接中…", "form": "预受理", "yes": "是", "no": "否", "min": "分钟",
        "nobody_waits": "本窗口暂无等候客户。", "priority": "优先", "reserved_counter": "转本窗口", "reserved_clerk": "转给您", "floor_role": "大堂",
        "devices": "设备故障", "unavailable": "暂停取号", "t_called": "已叫号", "t_serving": "办理中",
    },
}


def lang_of(query: str | None, accept: str) -> str:
    if query in LANGS:
        return query
    return "zh" if accept.lower().startswith("zh") else "en"
