#!/usr/bin/env python3
"""bench/feed_seed.py PORT TOKEN [TARGET_BYTES] - books a leader's week for bench/feed_bench.sh.

Creates a leader, a secretary and a room, then books meetings (two a
working day, Chinese titles, a description, a reminder, an optional
attendee) with the leader until the leader's feed
holds at least TARGET_BYTES (default 9300: issue 19's 9.3 KB feed).
Prints the feed's path (/feeds/<token>.ics) on stdout.
"""

import datetime
import http.client
import json
import sys
from urllib.parse import urlparse

TITLES = ["党组会", "局长办公会", "专题调度会", "项目评审会", "安全生产协调会", "年度工作部署会"]


def call(port, token, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": "Bearer " + token}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    c.request(method, path, body=data, headers=headers)
    r = c.getresponse()
    raw = r.read()
    c.close()
    return r.status, raw


def create(port, token, kind, body):
    status, raw = call(port, token, "POST", "/api/v1/" + kind, body)
    if status != 201:
        sys.exit("feed_seed: POST %s -> %d %s" % (kind, status, raw[:300]))
    return json.loads(raw)


def meeting(i, leader, secretary, room):
    d = i // 2  # 2027-03-01 is a Monday: working day d of the weeks that follow
    day = datetime.date(2027, 3, 1) + datetime.timedelta(days=d // 5 * 7 + d % 5)
    start = datetime.datetime.combine(day, datetime.time(9 if i % 2 == 0 else 14, 30))
    body = {"title": TITLES[i % len(TITLES)] + "（第%d次）" % (i + 1),
            "description": "议题：一、传达学习上级会议精神；二、研究部署近期重点工作；三、其他事项。",
            "start": start.isoformat(), "end": (start + datetime.timedelta(hours=1)).isoformat(),
            "tz": "Asia/Shanghai", "room": room, "reminders": [15],
            "attendees": [{"person": leader}, {"person": secretary, "optional": True}]}
    return body


def main():
    port, token = int(sys.argv[1]), sys.argv[2]
    target = int(sys.argv[3]) if len(sys.argv) > 3 else 9300
    leader = create(port, token, "people", {"name": "赵明", "role": "leader", "rank": 1,
                                            "department": "办公室"})
    secretary = create(port, token, "people", {"name": "王秘书", "role": "secretary", "rank": 50})
    room = create(port, token, "rooms", {"name": "第一会议室", "capacity": 20, "location": "三楼"})
    feed = urlparse(leader["feed_url"]).path
    for i in range(200):
        status, raw = call(port, token, "GET", feed)
        if status != 200:
            sys.exit("feed_seed: GET feed -> %d" % status)
        if len(raw) >= target:
            print(feed)
            return
        create(port, token, "events", meeting(i, leader["id"], secretary["id"], room["id"]))
    sys.exit("feed_seed: the feed did not reach %d bytes" % target)


if __name__ == "__main__":
    main()
