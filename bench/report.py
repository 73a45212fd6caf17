#!/usr/bin/env python3
"""Writes the benchmark report (Markdown + PNG plots) from one `scripts/bench-report` run.

  report.py --input bench-out/<run> --output docs/bench

Input: results.json (the last line of `tollgate bench --json`), the CSV time series the
benchmarks write (polling-timeline-<users>-<mode>.csv, scheduler-lateness-<n>.csv,
gateway-outbound.csv), and the peers' JSON (peer-scheduler-<impl>-<n>.json, peer-ptb.json) with
their samples. Needs matplotlib (installed by scripts/bench-report into a throwaway venv).
"""
import argparse, csv, glob, json, math, os, random

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt


def load_json(path):
    with open(path) as f:
        return json.load(f)


def load_column(path, column):
    with open(path) as f:
        return [float(row[column]) for row in csv.DictReader(f)]


def per_user_series(users, interval=60.0, seconds=180, seed=0):
    """Seed 000's per-user polling, computed: each user polls every `interval` seconds from a
    random phase (unsynchronised timers), so requests per second fluctuate around users/interval."""
    rng = random.Random(seed)
    counts = [0] * seconds
    for _ in range(users):
        t = rng.uniform(0, interval)
        while t < seconds:
            counts[int(t)] += 1
            t += interval
    return counts


def fmt(v, digits=1):
    if v is None:
        return "–"
    if isinstance(v, (int,)) or (isinstance(v, float) and v == int(v) and abs(v) >= 100):
        return f"{int(v):,}"
    return f"{v:,.{digits}f}"


def ratio(a, b):
    if a in (None, 0) or b in (None, 0):
        return "–"
    return f"×{a / b:,.1f}"


def plot_polling(inp, out, users):
    fig, ax = plt.subplots(figsize=(9, 4.2))
    series = per_user_series(users)
    ax.plot(range(len(series)), series, label=f"per-user polling (seed 000, computed), {users:,} users", color="#c0392b", lw=1)
    for mode, color in (("batch", "#2980b9"), ("delta", "#27ae60")):
        path = os.path.join(inp, f"polling-timeline-{users}-{mode}.csv")
        if os.path.exists(path):
            data = load_column(path, "requests")
            ax.step(range(len(data)), data, where="post", label=f"{mode} (measured), {users:,} users", color=color, lw=1.5)
    ax.axhline(5, color="black", ls="--", lw=1, label="NocoDB limit: 5 requests / s per token")
    ax.set_xlabel("seconds")
    ax.set_ylabel("NocoDB requests per second")
    ax.set_yscale("symlog", linthresh=10)
    ax.set_xlim(0, 180)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("NocoDB requests per second while watching payments")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "polling-requests.png"), dpi=110)
    plt.close(fig)


def plot_lateness(inp, out):
    fig, ax = plt.subplots(figsize=(9, 4.2))
    curves = []
    for n in (1, 3):
        path = os.path.join(inp, f"scheduler-lateness-{n}.csv")
        if os.path.exists(path):
            curves.append((f"Tollgate, {n} instance(s)", load_column(path, "lateness_ms")))
    for impl, label in (("apscheduler", "APScheduler 3 + RedisJobStore"), ("arq", "arq")):
        for n in (1, 3):
            path = os.path.join(inp, f"peer-{impl}-{n}.csv")
            if os.path.exists(path):
                curves.append((f"{label}, {n} process(es)", load_column(path, "lateness_ms")))
    for label, values in curves:
        values = sorted(max(v, 0.1) for v in values)
        if not values:
            continue
        ys = [(i + 1) / len(values) for i in range(len(values))]
        ax.plot(values, ys, label=label, lw=1.5)
    ax.set_xscale("log")
    ax.set_xlabel("lateness (ms, log scale): time run minus time due")
    ax.set_ylabel("fraction of jobs")
    ax.axvline(50, color="black", ls="--", lw=1, label="target p99: 50 ms")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Scheduler lateness distribution (same workload for every system)")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "scheduler-lateness.png"), dpi=110)
    plt.close(fig)


def plot_outbound(inp, out, ptb):
    fig, ax = plt.subplots(figsize=(9, 4.2))
    path = os.path.join(inp, "gateway-outbound.csv")
    if os.path.exists(path):
        data = load_column(path, "messages")
        ax.step(range(len(data)), data, where="post", label="Tollgate bot-gateway (one shared sender)", color="#27ae60", lw=1.5)
    if ptb and ptb.get("per_second"):
        ax.step(range(len(ptb["per_second"])), ptb["per_second"], where="post",
                label="python-telegram-bot + AIORateLimiter", color="#8e44ad", lw=1.5)
    ax.axhline(30, color="black", ls="--", lw=1, label="Telegram limit: 30 messages / s")
    ax.set_xlabel("seconds")
    ax.set_ylabel("messages accepted per second")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Broadcast through the Telegram simulator (Telegram's flood limits)")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "gateway-outbound.png"), dpi=110)
    plt.close(fig)


def plot_broadcast(inp, out, figures):
    path = os.path.join(inp, "broadcast-rate.csv")
    if not os.path.exists(path):
        return False
    seconds, campaign, replies, kills = [], [], [], []
    with open(path) as f:
        for row in csv.DictReader(f):
            seconds.append(int(row["second"]))
            campaign.append(int(row["campaign"]))
            replies.append(int(row["replies"]))
            if row.get("kill"):
                kills.append((int(row["second"]), row["kill"]))
    fig, ax = plt.subplots(figsize=(9, 4.2))
    ax.step(seconds, [c + r for c, r in zip(campaign, replies)], where="post", color="#2980b9", lw=1, label="all the bot's messages")
    ax.step(seconds, campaign, where="post", color="#27ae60", lw=1.5, label="the campaign's")
    ax.axhline(30, color="black", ls="--", lw=1, label="Telegram limit: 30 messages / s")
    for second, name in kills:
        ax.axvline(second, color="#c0392b", lw=1)
        ax.text(second, 2, f" kill -9 {name}", color="#c0392b", fontsize=8, rotation=90, va="bottom")
    ax.set_ylim(0, 34)
    ax.set_xlabel("seconds since the campaign's first message")
    ax.set_ylabel("messages accepted per second")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(f"A campaign to {fmt(figures.get('recipients'))} through two gateways, each killed once")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "broadcast-rate.png"), dpi=110)
    plt.close(fig)
    return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    os.makedirs(args.output, exist_ok=True)
    results = load_json(os.path.join(args.input, "results.json"))
    machine = results.get("machine", {})
    r = results.get("results", {})
    peers = {}
    for path in glob.glob(os.path.join(args.input, "peer-scheduler-*.json")):
        data = load_json(path)
        peers[(data["impl"], data["instances"])] = data
    ptb_path = os.path.join(args.input, "peer-ptb.json")
    ptb = load_json(ptb_path) if os.path.exists(ptb_path) else None

    polling_users = 10000
    if "polling" in r:
        sizes = sorted({run["users"] for run in r["polling"].get("runs", [])})
        polling_users = 10000 if 10000 in sizes else (sizes[-1] if sizes else 1000)
    plot_polling(args.input, args.output, polling_users)
    plot_lateness(args.input, args.output)
    plot_outbound(args.input, args.output, ptb)

    lines = ["# Tollgate benchmark report", ""]
    lines.append(f"Measured {machine.get('date', '?')} on {machine.get('cores', '?')} cores ({machine.get('cpu', '?')}), "
                 f"{machine.get('memory_gib', '?')} GiB, {machine.get('os', '?')}, kernel {machine.get('kernel', '?')}, "
                 f"{machine.get('build', '?')} build{' — quick workloads' if results.get('quick') else ''}. "
                 "Every figure below comes from this one run (`scripts/bench-report`); peers ran in the same run, "
                 "installed from PyPI into a throwaway virtualenv.")
    lines.append("")

    if "ipc" in r:
        ipc = r["ipc"]
        lines += ["## IPC (`tollgate bench ipc`)", "",
                  "| | Tollgate service socket | plain Unix-socket echo | ratio |", "|---|---|---|---|",
                  f"| round trip p50 / p99 (µs) | {fmt(ipc['ipc_round_trip_us']['p50'])} / {fmt(ipc['ipc_round_trip_us']['p99'])} "
                  f"| {fmt(ipc['echo_round_trip_us']['p50'])} / {fmt(ipc['echo_round_trip_us']['p99'])} | ×{ipc['ratio_round_trip_p50']} |",
                  f"| pipelined messages/s | {fmt(ipc['ipc_pipelined_msgs_per_s'])} | {fmt(ipc['echo_pipelined_msgs_per_s'])} | {ipc['ratio_throughput']} |",
                  "",
                  f"A `deliver` frame of 100 jobs ({fmt(ipc.get('codec_deliver100_bytes'))} bytes) encodes in "
                  f"{fmt(ipc.get('codec_deliver100_encode_us'))} µs and decodes in {fmt(ipc.get('codec_deliver100_decode_us'))} µs.", ""]

    if "scheduler" in r:
        s = r["scheduler"]
        lines += ["## Scheduler (`tollgate bench scheduler`) and its peers", "",
                  f"{fmt(s['jobs'])} jobs due evenly over {fmt(s['window_s'])} s; lateness = time run (delivered) minus time due.", "",
                  "| system | processes | scheduling jobs/s | lateness p50 / p99 / max (ms) | delivered | duplicates | peak RSS (MiB) |",
                  "|---|---|---|---|---|---|---|"]
        for n in (1, 3):
            f = s.get(f"instances_{n}")
            if f:
                lat = f["lateness_ms"]
                lines.append(f"| **Tollgate** | {n} | {fmt(f['scheduling_jobs_per_s'])} | {fmt(lat['p50'])} / {fmt(lat['p99'])} / {fmt(lat['max'])} "
                             f"| {fmt(f['delivered'])} | {fmt(f['duplicates'])} | {', '.join(fmt(x) for x in f['peak_rss_mib'])} |")
        for impl, label in (("apscheduler", "APScheduler 3 + RedisJobStore"), ("arq", "arq")):
            for n in (1, 3):
                p = peers.get((impl, n))
                if p:
                    lat = p["lateness_ms"]
                    lines.append(f"| {label} | {n} | {fmt(p['scheduling_jobs_per_s'])} | {fmt(lat['p50'])} / {fmt(lat['p99'])} / {fmt(lat['max'])} "
                                 f"| {fmt(p['delivered'])} (missing {fmt(p['missing'])}) | {fmt(p['duplicates'])} | {', '.join(fmt(x) for x in p['peak_rss_mib'])} |")
        t1 = s.get("instances_1", {}).get("lateness_ms", {}).get("p99")
        for impl, label in (("apscheduler", "APScheduler"), ("arq", "arq")):
            p = peers.get((impl, 1))
            if p and t1:
                lines.append("")
                lines.append(f"Lateness p99, {label} / Tollgate (1 process each): {ratio(p['lateness_ms']['p99'], t1)}.")
        lines += ["", "![Scheduler lateness](scheduler-lateness.png)", ""]

    if "polling" in r:
        lines += ["## Payment watching (`tollgate bench polling`): seed 000's table, measured", "",
                  "| watched users | mode | NocoDB requests per cycle (per-user polling, computed) | detection latency p50 / p99 (s) | 429s | max requests in any 1 s | peak RSS (MiB) |",
                  "|---|---|---|---|---|---|---|"]
        for run in r["polling"].get("runs", []):
            lat = run.get("detection_latency_ms", {})
            p50 = lat.get("p50") / 1000 if lat.get("p50") is not None else None
            p99 = lat.get("p99") / 1000 if lat.get("p99") is not None else None
            missed = f" ({fmt(run['missed'])} missed)" if run.get("missed") else ""
            lines.append(f"| {fmt(run['users'])} | {run['mode']} | {fmt(run['requests_per_cycle'])} ({fmt(run['per_user_requests_per_cycle'])}) "
                         f"| {fmt(p50)} / {fmt(p99)}{missed} | {fmt(run['nocodb_429'])} | {fmt(run['sim_max_per_sliding_window'])} | {fmt(run['peak_rss_mib'])} |")
        lines += ["", f"Latency is measured {r['polling'].get('latency_endpoint', '')}.", "",
                  "![NocoDB requests per second](polling-requests.png)", ""]

    if "gateway" in r:
        g = r["gateway"]
        lines += ["## Gateway (`tollgate bench gateway`) and python-telegram-bot", "",
                  "A real bot-gateway process against the Telegram simulator, whose flood limits are Telegram's "
                  "(30 messages/s per bot, 1/s per chat), a private Redis and the NocoDB simulator.", "",
                  "| figure | Tollgate |", "|---|---|",
                  f"| inbound updates handled/s ({fmt(g.get('updates'))} updates from 500 users) | {fmt(g.get('updates_handled_per_s'))} |",
                  f"| injected update → bot's reply, p50 / p99 ({fmt(g.get('latency_samples'))} samples) | "
                  f"{fmt(g.get('update_to_reply_ms_p50'))} ms / {fmt(g.get('update_to_reply_ms_p99'))} ms |",
                  f"| outbound broadcast ({fmt(g.get('outbound_messages'))} chats), sustained | {fmt(g.get('outbound_messages_per_s'))} messages/s "
                  f"(limit {fmt(g.get('outbound_limit_per_s'))}; most in any 1 s: {fmt(g.get('outbound_max_in_any_second'))}) |",
                  f"| 429s answered by the simulator | {fmt(g.get('telegram_429s'))} |",
                  f"| gateway peak RSS | {fmt(g.get('gateway_peak_rss_mib'))} MiB |", ""]
        if ptb:
            ours = g.get("outbound_messages_per_s")
            lines += ["| broadcast through the simulator | messages | sustained messages/s | 429s answered | failed sends |", "|---|---|---|---|---|",
                      f"| **Tollgate** bot-gateway | {fmt(g.get('outbound_messages'))} | {fmt(ours)} | {fmt(g.get('telegram_429s'))} | 0 |",
                      f"| python-telegram-bot + AIORateLimiter | {fmt(ptb['sent'])} of {fmt(ptb['users'])} | {fmt(ptb['sustained_msgs_per_s'])} "
                      f"| {fmt(ptb['sim_429'])} | {fmt(ptb['failed'])} |",
                      "", f"Sustained throughput, Tollgate / python-telegram-bot: {ratio(ours, ptb['sustained_msgs_per_s'])}."]
        lines += ["", "![Outbound messages per second](gateway-outbound.png)", ""]

    if "broadcast" in r:
        b = r["broadcast"]
        w, d = b.get("reply_ms_without", {}), b.get("reply_ms_during", {})
        lines += ["## Broadcast (`tollgate bench broadcast`)", "",
                  "Two real bot-gateway processes on one Redis send a campaign through the Telegram simulator's limits "
                  "while simulated people write /start and press \"Get access\"; each gateway is killed with SIGKILL once "
                  "(at 30 % and 60 % delivered) and started again a second later.", "",
                  "| figure | Tollgate |", "|---|---|",
                  f"| recipients: delivered, missing, twice | {fmt(b.get('delivered'))} of {fmt(b.get('recipients'))}, {fmt(b.get('missing'))}, {fmt(b.get('twice'))} |",
                  f"| campaign, sustained (5th-95th percentile) | {fmt(b.get('sustained_campaign_messages_per_s'), 2)} messages/s of the campaign, "
                  f"{fmt(b.get('sustained_bot_messages_per_s'), 2)} of the bot in all (limit 30) |",
                  f"| 429s answered by the simulator | {fmt(b.get('telegram_429s'))} |",
                  f"| reply latency p50 / p99 without a campaign ({fmt(w.get('n'))}) | {fmt(w.get('p50'))} ms / {fmt(w.get('p99'))} ms |",
                  f"| during it, away from the kills ({fmt(d.get('n'))}) | {fmt(d.get('p50'))} ms / {fmt(d.get('p99'))} ms "
                  f"({fmt(b.get('reply_p50_ratio'), 2)}× / {fmt(b.get('reply_p99_ratio'), 2)}×) |"]
        for name, k in sorted((b.get("kills") or {}).items()):
            lines.append(f"| kill of {name} at {fmt(k.get('at_s'))} s | longest pause {fmt(k.get('longest_pause_s'), 2)} s, "
                         f"sending again after {fmt(k.get('sending_again_after_s'))} s |")
        lines.append("")
        if plot_broadcast(args.input, args.output, b):
            lines += ["![Broadcast messages per second](broadcast-rate.png)", ""]

    with open(os.path.join(args.output, "REPORT.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(args.output, "results.json"), "w") as f:
        json.dump({"tollgate": results, "peers": {f"{k[0]}-{k[1]}": v for k, v in peers.items()}, "ptb": ptb}, f, indent=1, sort_keys=True)
    print(f"wrote {args.output}/REPORT.md and plots")


if __name__ == "__main__":
    main()
