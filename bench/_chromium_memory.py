"""Chromium's memory as the UI benchmarks read it: proportional set size (PSS) over every Chromium process
of this benchmark, and Chromium's own accounting per process type and allocator (memory-infra)."""
from __future__ import annotations

import os
from pathlib import Path


def chromium_pss_mb(root_pid: int, by_type: dict | None = None) -> float:
    """PSS of every Chromium process under ``root_pid`` (shared pages counted once in all); with
    ``by_type``, also summed per process type (browser, renderer, gpu-process, utility…)."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
            if "chrom" not in exe:
                continue
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    kb = int(line.split()[1])
                    total += kb
                    if by_type is not None:
                        kind = process_type(pid)
                        by_type[kind] = by_type.get(kind, 0) + kb / 1024
        except OSError:
            continue
    return total / 1024


def process_type(pid: int) -> str:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()  # retitled: split again
    except OSError:
        return "gone"
    return next((a.decode()[7:] for a in args if a.startswith(b"--type=")), "browser")


def memory_dump(browser, page) -> dict[str, float]:
    """Chromium's own accounting (memory-infra, as chrome://tracing shows it): MB per process type and
    top-level allocator (malloc, partition_alloc, v8, blink_gc, cc, gpu, skia, discardable, ...)."""
    cdp = browser.new_browser_cdp_session()
    chunks: list = []
    done: list = []
    cdp.on("Tracing.dataCollected", lambda e: chunks.extend(e["value"]))
    cdp.on("Tracing.tracingComplete", lambda e: done.append(1))
    cdp.send("Tracing.start", {"traceConfig": {"includedCategories": ["disabled-by-default-memory-infra"],
                                               "memoryDumpConfig": {"triggers": []}}, "transferMode": "ReportEvents"})
    cdp.send("Tracing.requestMemoryDump", {"levelOfDetail": "detailed"})
    cdp.send("Tracing.end")
    for _ in range(400):  # the events arrive while Playwright's loop runs
        if done:
            break
        page.wait_for_timeout(50)
    totals: dict[str, float] = {}
    for event in chunks:
        if event.get("ph") != "v":
            continue
        kind = process_type(event["pid"])
        for name, dump in ((event.get("args") or {}).get("dumps") or {}).get("allocators", {}).items():
            if "/" in name or name == "global":  # top-level allocators only; shared memory is under global
                continue
            size = int((dump.get("attrs", {}).get("size") or {}).get("value", "0"), 16)
            key = f"{kind}/{name}"
            totals[key] = totals.get(key, 0) + size / 2**20
    return totals
