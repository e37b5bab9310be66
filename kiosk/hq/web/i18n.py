"""The dashboard's words in English and Chinese (the page switches with ``?lang=``)."""
from __future__ import annotations

LANGS = ("en", "zh")

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Kiosk HQ", "login": "Sign in", "user": "User name", "password": "Password",
        "sign_in": "Sign in", "sign_out": "Sign out", "bad_login": "Wrong user name or password.",
        "locked_name": "Too many failed sign-ins for this user name: try again in {s} s (at {at}).",
        "locked_address": "Too many failed sign-ins from your address: try again in {s} s (at {at}).",
        "branches": "Branches", "compare": "Compare", "branch": "Branch", "state": "State",
        "online": "online", "offline": "offline", "unknown": "unknown", "since": "Since", "waiting": "Waiting",
        "longest": "Longest wait", "open_counters": "Open counters", "alert": "Alert", "events_min": "Events/min",
        "filter": "Filter branches…", "alerts_first": "Alerts on top", "show": "Show", "all": "all",
        "only_alerts": "alerts", "only_offline": "offline", "today": "Today", "queue_by_service": "Queue by service",
        "service": "Service", "estimate": "Estimate", "target": "Target", "served": "Served",
        "counters": "Counters", "counter": "Counter", "ticket": "Ticket", "closed": "closed", "open": "open",
        "paused": "paused", "waits_by_hour": "Waits by hour (mean, max)", "sl_by_hour": "Service level by hour",
        "satisfaction": "Satisfaction", "event_log": "Event log", "commands": "HQ commands", "send": "Send",
        "reply": "Reply", "read_only": "Read-only access: your role may not send commands.",
        "day": "Day", "mean_wait": "Mean wait", "max_wait": "Max wait", "service_level": "Service level",
        "noshow_rate": "No-show rate", "issued": "Issued", "called": "Called", "no_data": "No data",
        "connected": "live", "disconnected": "reconnecting…", "hour": "Hour", "viewer": "viewer",
        "operator": "operator", "level0": "none", "level1": "warning", "level2": "critical", "ratings": "Ratings",
        "command_log": "Command log", "sent_by": "By", "status": "Status", "time": "Time", "type": "Event",
        "details": "Details", "text": "Text", "seconds": "Seconds", "hours": "Hours", "ping": "Ping",
        "stats": "Snapshot", "display_message": "Message on the screens", "service_hours": "Service hours",
        "counter_cmd": "Counter", "metric": "Chart", "shown": "shown", "of": "of", "recorded": "recorded",
        "ev_total": "events", "mean_score": "Mean score", "service_time": "Mean service time",
        "back": "All branches", "version": "Version", "ago": "ago", "sending": "Sending…",
        "refused": "Refused", "timeout": "No reply (timeout)", "lang": "中文",
        "devices": "Devices", "device_faults": "Device faults", "dev_paper_out": "out of paper",
        "dev_paper_near_end": "paper low", "dev_cover_open": "cover open", "dev_offline": "offline",
        "dev_unplugged": "unplugged", "dev_no_reply": "not answering", "dev_timeout": "timed out",
        "dev_error": "error",
    },
    "zh": {
        "title": "总部监控", "login": "登录", "user": "用户名", "password": "密码", "sign_in": "登录",
        "sign_out": "退出", "bad_login": "用户名或密码错误。",
        "locked_name": "该用户名登录失败次数过多，请 {s} 秒后（{at}）再试。",
        "locked_address": "您的地址登录失败次数过多，请 {s} 秒后（{at}）再试。",
        "branches": "营业厅", "compare": "对比", "branch": "营业厅", "state": "状态", "online": "在线",
        "offline": "离线", "unknown": "未知", "since": "自", "waiting": "等候人数", "longest": "最长等候",
        "open_counters": "开放窗口", "alert": "预警", "events_min": "事件/分", "filter": "筛选营业厅…",
        "alerts_first": "预警置顶", "show": "显示", "all": "全部", "only_alerts": "预警", "only_offline": "离线",
        "today": "今日", "queue_by_service": "各业务排队", "service": "业务", "estimate": "预计等候",
        "target": "目标", "served": "已办结", "counters": "窗口", "counter": "窗口", "ticket": "号码",
        "closed": "关闭", "open": "开放", "paused": "暂停", "waits_by_hour": "每小时等候（平均、最长）",
        "sl_by_hour": "每小时服务水平", "satisfaction": "满意度", "event_log": "事件记录", "commands": "总部指令",
        "send": "发送", "reply": "回复", "read_only": "只读权限：您的角色不能发送指令。", "day": "日期",
        "mean_wait": "平均等候", "max_wait": "最长等候", "service_level": "服务水平", "noshow_rate": "过号率",
        "issued": "取号", "called": "叫号", "no_data": "暂无数据", "connected": "实时", "disconnected": "重新连接中…",
        "hour": "时", "viewer": "只读", "operator": "操作员", "level0": "无", "level1": "一级", "level2": "二级",
        "ratings": "评价数", "command_log": "指令记录", "sent_by": "发送人", "status": "状态", "time": "时间",
        "type": "事件", "details": "详情", "text": "文字", "seconds": "秒", "hours": "时段", "ping": "连通测试",
        "stats": "快照", "display_message": "屏幕消息", "service_hours": "业务时段", "counter_cmd": "窗口",
        "metric": "图表", "shown": "显示", "of": "/", "recorded": "已记录", "ev_total": "事件",
        "mean_score": "平均评分", "service_time": "平均办理时长", "back": "全部营业厅", "version": "版本",
        "ago": "前", "sending": "发送中…", "refused": "已拒绝", "timeout": "无回复（超时）", "lang": "EN",
        "devices": "设备", "device_faults": "设备故障", "dev_paper_out": "缺纸", "dev_paper_near_end": "纸将尽",
        "dev_cover_open": "机盖打开", "dev_offline": "离线", "dev_unplugged": "未连接", "dev_no_reply": "无响应",
        "dev_timeout": "超时", "dev_error": "故障",
    },
}


def lang_of(value: str | None) -> str:
    return value if value in LANGS else "zh"
