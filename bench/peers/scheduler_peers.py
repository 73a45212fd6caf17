#!/usr/bin/env python3
"""Peer scheduler workloads for `scripts/bench-report` (Tollgate's own driver code; the peers
themselves are installed from PyPI into a throwaway virtualenv, never committed).

Mirrors `tollgate bench scheduler`: a warm-up estimates the scheduling rate, then N jobs are
scheduled due evenly over a window that starts after scheduling ends (lead-in = N / rate * 1.5 +
1.5 s); every job, when it runs, records (id, due, now) in Redis; lateness = run time - due time.
Prints one JSON object.

  scheduler_peers.py run --impl apscheduler|arq --redis-port P --jobs N --window S --instances K
"""
import argparse, asyncio, json, os, subprocess, sys, time
from datetime import datetime, timezone

RUNS = "peer:runs"


def vmhwm_mib(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[min(len(sorted_values), int(rank)) - 1]


# ---- APScheduler 3 + RedisJobStore (seed 004's recommendation) --------------------------------

def record_apscheduler(job_id, due, port):
    import redis
    now = time.time()
    client = getattr(record_apscheduler, "client", None)
    if client is None:
        client = record_apscheduler.client = redis.Redis(port=port)
    client.rpush(RUNS, f"{job_id} {due} {now} {os.getpid()}")


def apscheduler_make(port, start_paused):
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.jobstores.redis import RedisJobStore
    from apscheduler.executors.pool import ThreadPoolExecutor
    scheduler = BackgroundScheduler(
        jobstores={"default": RedisJobStore(port=port, jobs_key="peer.aps.jobs", run_times_key="peer.aps.run_times")},
        executors={"default": ThreadPoolExecutor(20)},
        job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
        timezone="UTC")
    scheduler.start(paused=start_paused)
    return scheduler


def apscheduler_worker(port):
    scheduler = apscheduler_make(port, start_paused=False)
    while True:
        time.sleep(3600)


def apscheduler_schedule(scheduler, port, prefix, due_times):
    for i, due in enumerate(due_times):
        job_id = f"{prefix}-{i}"
        scheduler.add_job(record_apscheduler, "date", run_date=datetime.fromtimestamp(due, timezone.utc),
                          args=[job_id, due, port], id=job_id)


# ---- arq ----------------------------------------------------------------------------------------

async def record_arq(ctx, job_id, due):
    now = time.time()
    await ctx["redis"].rpush(RUNS, f"{job_id} {due} {now} {os.getpid()}")


def arq_worker(port):
    from arq import run_worker
    from arq.connections import RedisSettings

    class WorkerSettings:
        functions = [record_arq]
        redis_settings = RedisSettings(port=port)
        max_jobs = 100           # arq's default is 10; raised so throughput is not capped by it
        # poll_delay stays at arq's default (0.5 s): that is how arq is run out of the box.
    run_worker(WorkerSettings)


async def arq_schedule(port, prefix, due_times):
    from arq import create_pool
    from arq.connections import RedisSettings
    pool = await create_pool(RedisSettings(port=port))
    sem = asyncio.Semaphore(64)

    async def one(i, due):
        async with sem:
            await pool.enqueue_job("record_arq", f"{prefix}-{i}", due, _job_id=f"{prefix}-{i}",
                                   _defer_until=datetime.fromtimestamp(due, timezone.utc))
    await asyncio.gather(*(one(i, d) for i, d in enumerate(due_times)))
    await pool.aclose()


# ---- driver -------------------------------------------------------------------------------------

def run(args):
    import redis
    client = redis.Redis(port=args.redis_port)
    client.flushdb()
    workers = []
    me = os.path.abspath(__file__)
    scheduler = None
    try:
        if args.impl == "apscheduler":
            # The driving process holds a paused scheduler only to add jobs to the shared jobstore;
            # the worker processes run them (APScheduler has no other way to add jobs).
            scheduler = apscheduler_make(args.redis_port, start_paused=True)
            schedule = lambda prefix, dues: apscheduler_schedule(scheduler, args.redis_port, prefix, dues)
        else:
            schedule = lambda prefix, dues: asyncio.run(arq_schedule(args.redis_port, prefix, dues))

        # Warm-up: the scheduling rate, far in the future, then removed.
        warm = 2000
        t = time.time()
        schedule("warm", [time.time() + 36000] * warm)
        rate = warm / (time.time() - t)
        if scheduler is not None:
            scheduler.remove_all_jobs()
        client.delete(*[k for k in client.keys("arq:*")] or ["-"])
        lead = args.jobs / rate * 1.5 + 1.5

        start = time.time() + lead
        step = args.window / args.jobs
        t = time.time()
        schedule("spread", [start + i * step for i in range(args.jobs)])
        scheduling_s = time.time() - t
        # Workers start once the jobs are stored, within the lead-in: an APScheduler process only
        # wakes for jobs added by itself, so one started earlier would sleep through the workload.
        for i in range(args.instances):
            workers.append(subprocess.Popen([sys.executable, me, "worker", "--impl", args.impl,
                                             "--redis-port", str(args.redis_port)],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        overlap = time.time() > start

        deadline = start + args.window + args.timeout
        while time.time() < deadline and client.llen(RUNS) < args.jobs:
            time.sleep(0.2)
        runs = [r.decode().split() for r in client.lrange(RUNS, 0, -1)]
        first, seen, duplicates = [], set(), 0
        pids = {}
        for job_id, due, at, pid in runs:
            pids[pid] = pids.get(pid, 0) + 1
            if job_id in seen:
                duplicates += 1
                continue
            seen.add(job_id)
            first.append((float(at) - float(due)) * 1000)
        first.sort()
        if args.samples:
            with open(args.samples, "w") as f:
                f.write("lateness_ms\n" + "".join(f"{int(v)}\n" for v in first))
        last = max((float(r[2]) for r in runs), default=start)
        result = {
            "impl": args.impl, "instances": args.instances, "jobs": args.jobs, "window_s": args.window,
            "scheduling_jobs_per_s": round(args.jobs / scheduling_s),
            "scheduling_overlapped_window": overlap,
            "delivered": len(seen), "missing": args.jobs - len(seen), "duplicates": duplicates,
            "lateness_ms": {"p50": percentile(first, 50), "p99": percentile(first, 99),
                            "max": first[-1] if first else None, "n": len(first)},
            "sustained_jobs_per_s": round(len(seen) / max(0.001, last - start)),
            "peak_rss_mib": [vmhwm_mib(w.pid) for w in workers],
            "runs_by_pid": pids, "worker_pids": [w.pid for w in workers], "driver_pid": os.getpid(),
        }
        for key in ("p50", "p99", "max"):
            if result["lateness_ms"][key] is not None:
                result["lateness_ms"][key] = round(result["lateness_ms"][key], 1)
        print(json.dumps(result))
    finally:
        for w in workers:
            w.kill()
            w.wait()
        if scheduler is not None:
            scheduler.shutdown(wait=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["run", "worker"])
    parser.add_argument("--impl", choices=["apscheduler", "arq"], required=True)
    parser.add_argument("--redis-port", type=int, required=True)
    parser.add_argument("--jobs", type=int, default=100000)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--instances", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds after the window to wait for stragglers")
    parser.add_argument("--samples", help="write every job's lateness (ms) to this CSV file")
    args = parser.parse_args()
    if args.mode == "worker":
        (apscheduler_worker if args.impl == "apscheduler" else arq_worker)(args.redis_port)
    else:
        run(args)


if __name__ == "__main__":
    main()
