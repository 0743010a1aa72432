#!/usr/bin/env python3
"""Renders the robot messages as a phone shows them, for docs/CHANNELS.md.

Runs the real binary against the fake robots of robot_receiver.py, books a small day of the
office (a meeting with a car and lunch, a change, a cancellation, a reminder, a confidential
meeting), takes the markdown each robot received, turns it into a chat bubble the way WeCom
and DingTalk display their markdown (headings, bold, quotes; WeCom breaks lines at "\\n",
DingTalk at blank lines) and screenshots it with headless Chromium at 390 px wide.

Not a test (ctest runs tests/e2e/test_*.py only); run it after changing a template:

    python3 tests/e2e/render_robot_messages.py docs/screenshots

Needs chromium (apt-get install chromium) and a CJK font (fonts-noto-cjk).
"""

import datetime
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from dispatch_support import at  # noqa: E402
from harness import Server  # noqa: E402
from robot_receiver import Robots  # noqa: E402

SECRET = "SEC" + "0123456789abcdef" * 4
WIDTH = 390

CSS = """
body { margin: 0; background: #ededed; font-family: "Noto Sans CJK SC", sans-serif;
       -webkit-font-smoothing: antialiased; }
.bar { background: #f7f7f7; border-bottom: 1px solid #ddd; padding: 12px; text-align: center;
       font-size: 16px; color: #111; }
.row { display: flex; padding: 14px 12px 18px 12px; align-items: flex-start; }
.avatar { width: 40px; height: 40px; border-radius: 6px; flex: none; margin-right: 10px;
          color: #fff; font-size: 13px; display: flex; align-items: center;
          justify-content: center; }
.wecom .avatar { background: #2b7de9; }
.dingtalk .avatar { background: #3296fa; border-radius: 50%; }
.who { font-size: 12px; color: #888; margin-bottom: 4px; }
.card { background: #fff; border-radius: 6px; padding: 12px 14px; width: 280px;
        font-size: 15px; line-height: 1.55; color: #222; word-break: break-all; }
.card h3 { font-size: 17px; margin: 0 0 6px 0; }
.card p { margin: 0 0 8px 0; }
.card blockquote { margin: 4px 0 0 0; padding-left: 8px; border-left: 3px solid #d0d0d0;
                   color: #888; font-size: 14px; }
.card a { color: #2b7de9; text-decoration: none; }
"""


def inline(text):
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    return re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r'<a href="\2">\1</a>', text)


def markdown_html(md, kind):
    """The subset of markdown the robots render, with each app's idea of a line."""
    parts = md.split("\n\n") if kind == "dingtalk" else md.split("\n")
    out = []
    for part in parts:
        for line in ([part] if kind == "wecom" else part.split("\n")):
            if line.startswith("### "):
                out.append("<h3>%s</h3>" % inline(line[4:]))
            elif line.startswith("> "):
                out.append("<blockquote>%s</blockquote>" % inline(line[2:]))
            elif line:
                out.append("<p>%s</p>" % inline(line))
    return "\n".join(out)


def page(msg, group):
    kind = msg.kind
    app = "企业微信" if kind == "wecom" else "钉钉"
    return """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=%d"><style>%s</style></head>
<body class="%s"><div class="bar">%s · %s</div>
<div class="row"><div class="avatar">机器人</div><div><div class="who">办公室通知</div>
<div class="card">%s</div></div></div></body></html>""" % (
        WIDTH, CSS, kind, html.escape(group), app, markdown_html(msg.markdown, kind))


def screenshot(chromium, html_text, path):
    lines = html_text.count("<p>") + html_text.count("<blockquote>") + html_text.count("<h3>")
    # Lines that wrap take two: a generous height, the page background fills the rest.
    height = 150 + 34 * lines + 20 * html_text.count("，")
    with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False, encoding="utf-8") as f:
        f.write(html_text)
    try:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", "--force-device-scale-factor=2",
                        "--window-size=%d,%d" % (WIDTH, height), "--screenshot=" + path,
                        "file://" + f.name], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
    finally:
        os.unlink(f.name)


def next_working_day(srv):
    today = datetime.date.today()
    days = srv.get("/api/v1/workdays?from=%s&to=%s" % (
        today + datetime.timedelta(days=1), today + datetime.timedelta(days=20))).json
    return [d["date"] for d in days if d["working"]][0]


def book(srv, robots):
    post = srv.post
    drivers = post("/api/v1/webhooks", {"url": robots.wecom_url("drivers"),
                                        "events": ["dispatch.*"], "format": "wecom"}).json
    office = post("/api/v1/webhooks", {"url": robots.wecom_url("office"), "format": "wecom",
                                       "events": ["event.*", "reminder.due"]}).json
    canteen = post("/api/v1/webhooks", {"url": robots.dingtalk_url("canteen", SECRET),
                                        "events": ["catering.updated"], "format": "dingtalk",
                                        "secret": SECRET}).json
    ding_drivers = post("/api/v1/webhooks", {"url": robots.dingtalk_url("ding-drivers"),
                                             "events": ["dispatch.assigned"],
                                             "format": "dingtalk"}).json
    assert all(w.get("id") for w in (drivers, office, canteen, ding_drivers))
    wang = post("/api/v1/people", {"name": "王建国", "role": "leader", "rank": 1}).json
    li = post("/api/v1/people", {"name": "李文华", "role": "secretary"}).json
    zhao = post("/api/v1/people", {"name": "赵敏", "role": "staff", "diet": "halal"}).json
    feng = post("/api/v1/people", {"name": "冯师傅", "role": "driver"}).json
    # The driver's own robot (bound to him): its 派车通知 ends with his one-tap link.
    assert post("/api/v1/webhooks", {"url": robots.wecom_url("feng"), "events": ["dispatch.*"],
                                     "format": "wecom", "person": feng["id"]}).status == 201
    car = post("/api/v1/vehicles", {"name": "轿车", "plate": "京A·D1234", "seats": 4}).json
    room = post("/api/v1/rooms", {"name": "第一会议室", "capacity": 30,
                                  "location": "机关大楼三楼"}).json
    date = next_working_day(srv)
    ev = post("/api/v1/events", {
        "title": "全市安全生产工作会议", "start": at(date, "09:00"), "end": at(date, "11:30"),
        "tz": "Asia/Shanghai", "room": room["id"], "guests": 3,
        "attendees": [{"person": wang["id"]}, {"person": li["id"]}, {"person": zhao["id"]}],
        "meals": [{"meal": "lunch"}],
        "trips": [{"vehicle": car["id"], "driver": feng["id"], "depart": at(date, "08:20"),
                   "return": at(date, "12:00"), "from": "机关大院", "to": "市政府东门",
                   "passengers": [wang["id"], li["id"]]}]}).json
    trip = dict(ev["trips"][0], depart=at(date, "08:10"), to="市政府北门")
    srv.patch("/api/v1/events/%s" % ev["id"], {"trips": [trip]})
    # A confidential meeting whose 30-minute reminder falls due in two seconds.
    t0 = int(time.time()) + 2 + 1800
    start = datetime.datetime.fromtimestamp(t0, ZoneInfo("Asia/Shanghai"))
    post("/api/v1/events", {"title": "人事调整专题会", "confidential": True,
                            "start": start.strftime("%Y-%m-%dT%H:%M:%S"),
                            "end": (start + datetime.timedelta(hours=1)).strftime(
                                "%Y-%m-%dT%H:%M:%S"),
                            "tz": "Asia/Shanghai", "room": room["id"],
                            "attendees": [{"person": wang["id"]}], "reminders": [30]})
    srv.delete("/api/v1/events/%s" % ev["id"])


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "docs",
                                                                  "screenshots")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    os.makedirs(out_dir, exist_ok=True)
    with Robots() as robots, Server(extra_args=["--retry-schedule", "1", "--public-url",
                                                "https://oa.example.gov.cn"]) as srv:
        book(srv, robots)
        time.sleep(4)
        shots = [("drivers", "派车通知", "wecom-dispatch-assigned.png", "司机群"),
                 ("drivers", "派车变更", "wecom-dispatch-updated.png", "司机群"),
                 ("drivers", "派车取消", "wecom-dispatch-cancelled.png", "司机群"),
                 ("office", "会议通知", "wecom-meeting-notice.png", "办公室工作群"),
                 ("office", "会议提醒", "wecom-reminder-confidential.png", "办公室工作群"),
                 ("canteen", "用餐人数变更", "dingtalk-catering.png", "食堂订餐群"),
                 ("ding-drivers", "派车通知", "dingtalk-dispatch-assigned.png", "司机群"),
                 ("feng", "派车通知", "wecom-dispatch-taplink.png", "冯师傅（个人通知）")]
        for robot, headline, name, group in shots:
            msgs = [m for m in robots.delivered(robot) if m.headline == headline]
            if not msgs:
                sys.exit("no %s message reached %s: %r" % (headline, robot,
                                                          robots.received(robot)))
            screenshot(chromium, page(msgs[0], group), os.path.join(out_dir, name))
            print(os.path.join(out_dir, name))


if __name__ == "__main__":
    main()
