"""Ticket tap -> ESC/POS bytes written to the printer's port, text mode vs image mode.

For each text mode and paper width: the pure rendering time (layout + python-escpos; in
image mode also "cold", with the cache of rasterised lines emptied before each ticket), and
the driver path ``printer.print_ticket(job)`` -> bytes written to a real pty (status
queries off, so the figure is our software, not a round trip), compared with the time the
same bytes need on the wire at 115200 baud (8N1: 10 bits per byte). Target: software time /
wire time <= 0.2 at p99. A fake printer (``drivers.fakes``) drains the pty (a pty ignores the baud rate).
Baseline in the same run: an empty job through the same worker thread (thread hand-off and
scheduling noise), with the 1-minute load average, to read p99 on a shared machine.

    python -m bench.ticket_tap_to_bytes [--n 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time

from bench.metrics import Metric, Target
from drivers.fakes import FakePtyDevice
from drivers.jobs import TicketPrintJob
from drivers.printer.escpos import EscposPrinter
from drivers.printer.ticket_layout import LayoutOptions, ticket_bytes
from drivers.transport import SerialTransport

METRICS = (
    Metric("ticket_tap_to_bytes_ms", "ms", Target("ratio_p99_to_wire", "<=", 0.2),
           "print_ticket(job) → every byte written to a pty; the target is p99 ÷ the wire time at 115200 baud"),
    Metric("ticket_render_ms", "ms", what="layout + python-escpos only"),
    Metric("ticket_render_cold_ms", "ms", what="the first image ticket, fonts loaded"),
)

BAUD = 115200


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def job(i: int) -> TicketPrintJob:
    return TicketPrintJob(
        number=f"A{i % 1000:03d}", service_names={"zh": "缴费", "en": "Payments"},
        branch_name={"zh": "示范营业厅", "en": "Demo Service Hall"}, ahead=i % 40,
        estimate_s=60.0 * (i % 45), issued_at=dt.datetime(2026, 11, 23, 9, 0) + dt.timedelta(seconds=37 * i),
        languages=("zh", "en"), ticket_id=i, service="A", branch_id="demo-001",
        footer={"zh": "谢谢光临", "en": "Thank you for your visit"})


def emit(**fields) -> None:
    print(json.dumps(fields, ensure_ascii=False), flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="bench-ticket-")
    qr = "https://q.example/{branch}/{ticket}?id={ticket_id}"
    for paper in (80, 58):
        for mode in ("gb18030", "image"):
            opts = LayoutOptions(paper_mm=paper, text_mode=mode, qr_url=qr)
            ticket_bytes(job(0), opts)  # warm: escpos import, font load
            render, sizes = [], []
            for i in range(args.n):
                t0 = time.perf_counter()
                data = ticket_bytes(job(i), opts)
                render.append((time.perf_counter() - t0) * 1000)
                sizes.append(len(data))
            if mode == "image":  # worst case: no line cached (a fresh process, all lines new)
                from drivers.printer import ticket_layout

                cold = []
                for i in range(max(20, args.n // 5)):
                    ticket_layout._raster_line.cache_clear()
                    t0 = time.perf_counter()
                    ticket_bytes(job(i), opts)
                    cold.append((time.perf_counter() - t0) * 1000)
                emit(metric="ticket_render_cold_ms", mode=mode, paper_mm=paper, p50=round(pct(cold, 50), 3),
                     p99=round(pct(cold, 99), 3), n=len(cold), unit="ms",
                     ratio_p99_to_wire=round(pct(cold, 99) / (len(data) * 10 / BAUD * 1000), 4))
            size = int(pct(sizes, 50))
            wire_ms = size * 10 / BAUD * 1000
            emit(metric="ticket_render_ms", mode=mode, paper_mm=paper, p50=round(pct(render, 50), 3),
                 p99=round(pct(render, 99), 3), n=args.n, unit="ms", bytes=size)

            link = os.path.join(tmp, f"tty-{paper}-{mode}")
            drain = FakePtyDevice(link, keep_bytes=0)  # the printer end: reads everything, answers nothing
            printer = EscposPrinter("bench", SerialTransport(link, BAUD), opts, status_poll_s=0)
            printer.start()
            printer.wait_idle()
            orig_write = printer.transport.write
            stamps: list[float] = []

            def write(data, _orig=orig_write):
                _orig(data)
                stamps.append(time.perf_counter())

            printer.transport.write = write
            tap, noop = [], []
            for i in range(args.n):
                t0 = time.perf_counter()
                res = printer.print_ticket(job(i)).result(30)
                assert res.ok, res
                tap.append((stamps[-1] - t0) * 1000)
                # baseline in the same run: an empty job through the same worker
                t0 = time.perf_counter()
                printer.worker.submit(int).result(30)
                noop.append((time.perf_counter() - t0) * 1000)
            printer.close()
            drain.close()
            p99 = pct(tap, 99)
            emit(metric="ticket_tap_to_bytes_ms", mode=mode, paper_mm=paper, p50=round(pct(tap, 50), 3),
                 p99=round(p99, 3), n=args.n, unit="ms", bytes=size,
                 wire_ms_at_115200=round(wire_ms, 1), ratio_p99_to_wire=round(p99 / wire_ms, 4),
                 target_ratio=0.2, ok=p99 / wire_ms <= 0.2,
                 baseline_empty_job_p50=round(pct(noop, 50), 3), baseline_empty_job_p99=round(pct(noop, 99), 3),
                 load_avg_1m=round(os.getloadavg()[0], 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
