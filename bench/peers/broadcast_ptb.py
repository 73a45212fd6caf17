#!/usr/bin/env python3
"""Peer broadcast workload for `scripts/bench-report`: python-telegram-bot with its AIORateLimiter
(installed from PyPI into a throwaway virtualenv) sends one message to each of N users through
Tollgate's Telegram simulator, whose flood limits are Telegram's (30 msg/s for the bot). Mirrors the
outbound part of `tollgate bench gateway`. Prints one JSON object.

  broadcast_ptb.py --sim http://127.0.0.1:PORT --token 123456:TEST-token --users N
"""
import argparse, asyncio, json, time, urllib.request


def control(sim, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(sim + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read() or b"null")


async def broadcast(args):
    from telegram.ext import AIORateLimiter, ApplicationBuilder
    first_user = 7_000_000
    users = list(range(first_user, first_user + args.users))
    control(args.sim, "POST", "/_sim/users", {"ids": users})
    before = control(args.sim, "GET", "/_sim/stats")
    app = (ApplicationBuilder().token(args.token).base_url(args.sim + "/bot")
           # PTB's documented rate limiter; overall 30/s is Telegram's bulk limit (its default).
           .rate_limiter(AIORateLimiter(overall_max_rate=30, overall_time_period=1, max_retries=5))
           .connection_pool_size(16).pool_timeout(None).build())
    await app.initialize()
    sent_at = []

    async def send(uid):
        await app.bot.send_message(chat_id=uid, text=f"Broadcast to {uid}")
        sent_at.append(time.time())

    start = time.time()
    results = await asyncio.gather(*(send(u) for u in users), return_exceptions=True)
    elapsed = time.time() - start
    await app.shutdown()
    after = control(args.sim, "GET", "/_sim/stats")
    failures = [repr(r) for r in results if isinstance(r, Exception)]
    # Sustained rate: messages per second between the first and last delivery.
    sent_at.sort()
    span = (sent_at[-1] - sent_at[0]) if len(sent_at) > 1 else elapsed
    per_second = {}
    for t in sent_at:
        second = int(t - start)
        per_second[second] = per_second.get(second, 0) + 1
    return {
        "impl": "python-telegram-bot AIORateLimiter",
        "users": args.users, "sent": len(sent_at), "failed": len(failures),
        "failures_sample": failures[:3],
        "elapsed_s": round(elapsed, 2),
        "sustained_msgs_per_s": round((len(sent_at) - 1) / span, 2) if span > 0 else None,
        "sim_429": after["result"]["flood_refusals"] - before["result"]["flood_refusals"],
        "sim_max_messages_in_one_second": after["result"]["max_messages_in_one_second"],
        "send_requests": after["result"]["requests"].get("sendMessage", 0) - before["result"]["requests"].get("sendMessage", 0),
        "per_second": [per_second.get(s, 0) for s in range(int(elapsed) + 1)],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sim", required=True)
    parser.add_argument("--token", default="123456:TEST-token")
    parser.add_argument("--users", type=int, default=3000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(broadcast(args))))


if __name__ == "__main__":
    main()
