"""Screenshots of the hall web app: ``python -m kiosk.sim.lan_screenshots [--out docs/screenshots]``.

Runs the real kiosk (`kiosk run --simulate --lan 127.0.0.1:PORT` on the sample hall, a fresh
data directory, clerks added with `kiosk clerk add`), fills the hall through the API (customers
issued by a floor guide, some with the pre-acceptance form, three counters open with a customer
each), then drives Debian's headless Chromium with Playwright and writes ``lan-caller-*.png``
and ``lan-floor-*.png`` in Chinese and English, at desktop and phone width. The kiosk is driven
from outside only (processes and HTTP), as the staff would.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from kiosk.sim.net import free_port
from kiosk.sim.processes import stop_process
from kiosk.sim.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("KIOSK_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
CLERKS = {"c01": ("王芳", "1111"), "c02": ("李雷", "2222"), "c03": ("赵敏", "3333"), "g01": ("陈静", "4444")}
SIZES = {"desktop": (1280, 860), "phone": (390, 844)}
FORMS = [{"document": "id_card", "business": "挂失补卡", "documents_checked": True},
         {"document": "passport", "business": "开户", "documents_checked": False, "note": "需要翻译"}]


def _kiosk(data: Path, *args: str, stdin: str | None = None) -> None:
    subprocess.run([sys.executable, "-m", "kiosk", "--data", str(data), *args], input=stdin, text=True,
                   check=True, cwd=str(REPO), capture_output=True)


def fill_hall(url: str) -> dict[str, str]:
    """Customers and open counters; returns a token per clerk."""
    tokens: dict[str, str] = {}
    with httpx.Client(base_url=url, timeout=30) as c:
        for clerk, counter in (("c01", 1), ("c02", 2), ("c03", 3), ("g01", None)):
            body = {"clerk": clerk, "pin": CLERKS[clerk][1], **({"counter": counter} if counter else {})}
            tokens[clerk] = c.post("/api/session", json=body).raise_for_status().json()["token"]
        floor = {"Authorization": f"Bearer {tokens['g01']}"}
        for i, svc in enumerate("AABABVBAABAB"):
            body: dict = {"service": svc}
            if svc == "B":
                body["form"] = FORMS[i % 2]
            if i == 4:
                body["assisted"] = True
            c.post("/api/tickets", json=body, headers=floor).raise_for_status()
        for clerk in ("c01", "c02", "c03"):
            auth = {"Authorization": f"Bearer {tokens[clerk]}"}
            c.post("/api/counter/open", headers=auth).raise_for_status()
            c.post("/api/counter/call", headers=auth).raise_for_status()
        c.post("/api/counter/start", headers={"Authorization": f"Bearer {tokens['c02']}"}).raise_for_status()
    return tokens


def shoot(url: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright
    written: list[Path] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            for size, (w, h) in SIZES.items():
                for lang in ("zh", "en"):
                    for kind, clerk, counter in (("caller", "c03", "3"), ("floor", "g01", "")):
                        ctx = browser.new_context(viewport={"width": w, "height": h},
                                                  device_scale_factor=2 if size == "phone" else 1)
                        page = ctx.new_page()
                        page.goto(f"{url}/{kind}?lang={lang}")
                        page.fill("input[name=clerk]", clerk)
                        page.fill("input[name=pin]", CLERKS[clerk][1])
                        page.select_option("select[name=counter]", counter)
                        page.click("button[type=submit]")
                        page.wait_for_selector("#ticket" if kind == "caller" else "#hall .services")
                        if kind == "floor":
                            page.select_option("select[name=service]", "B")
                        page.wait_for_timeout(400)
                        path = out / f"lan-{kind}-{lang}-{size}.png"
                        page.screenshot(path=str(path), full_page=True)
                        written.append(path)
                        ctx.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m kiosk.sim.lan_screenshots", description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lan-shots-") as tmp:
        data = Path(tmp) / "data"
        for clerk, (name, pin) in CLERKS.items():
            _kiosk(data, "clerk", "add", clerk, "--name", name, stdin=pin + "\n")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = open(Path(tmp) / "kiosk.log", "w")  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--data", str(data), "run", "--simulate", "--lan",
                                 f"127.0.0.1:{port}"], stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                                cwd=str(REPO))
        try:
            wait_until(lambda: _up(url, proc), 60, what="the kiosk's hall web app")
            fill_hall(url)
            for path in shoot(url, out):
                print(path)
        finally:
            stop_process(proc)
            log.close()
    return 0


def _up(url: str, proc: subprocess.Popen) -> bool:
    if proc.poll() is not None:
        raise RuntimeError(f"the kiosk exited {proc.returncode}")
    try:
        return httpx.get(url + "/caller", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    raise SystemExit(main())
