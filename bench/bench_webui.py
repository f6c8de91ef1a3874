#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The web UI's speed in headless chromium: time to the first rows of a 100,000-run
experiment (plain, sorted by a metric, filtered) and to a drawn chart of a 1,000,000-point
metric, plus frame times while the table scrolls. Goals: first rows < 300 ms, chart < 500 ms.

    python3 bench/bench_webui.py [--build build/dev] [--runs 100000] [--points 1000000]
                                 [--reps 5] [--keep DIR] [--only rows]

With --only rows the three first-rows loads alone are timed (no chart, no scrolling). Each
first-rows figure has two times: the first row painted (the browser's Element Timing of its
name; the goal is judged on it) and the rows in the page (window.__cairnFirstRows). Each load is a
fresh browser context (cold cache) in a window that is already open (about:blank for a second
first, as a user's browser is when they type the address); first_rows_new_window is the plain
first rows with the window opened by the navigation itself (its setup overlaps the load), and
floors for scale, served beside it by a plain HTTP server: floor_one_line(_new_window), a static
page of one line of text, and floor_static_rows(_new_window), the runs page as the browser drew
it saved as static HTML (no script, no request: what server-side rendering could reach at best).

The store is seeded by bench_webui_seed (the public C API, 1000 runs a transaction) into DIR
(kept and reused with --keep), served by `cairn server` on 127.0.0.1, and timed by
bench/bench_webui.mjs (playwright-core from web/'s lockfile, /usr/bin/chromium)."""
import argparse
import http.server
import json
import os
import pathlib
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tests' / 'e2e'))

# The browser's floor: one line of text, painted with nothing else to do (bench_webui.mjs).
# bench_webui.mjs writes a second page beside it: the runs page as drawn, saved as static HTML.
FLOOR_PAGE = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>floor</title>'
              '</head><body><p elementtiming="cairn-first-row">one line of text</p><script>'
              'window.__cairnFirstRows = performance.now();</script></body></html>')


class FloorHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default=str(ROOT / 'build' / 'dev'))
    ap.add_argument('--runs', type=int, default=100000)
    ap.add_argument('--points', type=int, default=1000000)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--keep', help='a folder for the seeded store, reused when it exists')
    ap.add_argument('--only', choices=['rows'], help='time the first rows only')
    args = ap.parse_args()
    build = pathlib.Path(args.build).resolve()
    os.environ.setdefault('CAIRN_BIN', str(build / 'cairn'))
    import restlib  # noqa: E402  (reads CAIRN_BIN)

    work = pathlib.Path(args.keep) if args.keep else pathlib.Path(tempfile.mkdtemp(prefix='bw-'))
    work.mkdir(parents=True, exist_ok=True)
    store = 'sqlite:///' + str(work / 's.db').lstrip('/')
    ids_file = work / 'ids.txt'
    if not ids_file.exists():
        t0 = time.monotonic()
        out = subprocess.run([str(build / 'bench' / 'bench_webui_seed'), store, str(args.runs),
                              str(args.points)], check=True, capture_output=True, text=True).stdout
        ids_file.write_text(out)
        print('seeded %d runs and a %d-point metric in %.1f s' %
              (args.runs, args.points, time.monotonic() - t0))
    exp_id, long_run = ids_file.read_text().split()
    # The block summaries a previous run kept are dropped (docs/rest.md, "Downsampling"): the
    # server's background summarizer computes them again after it starts, timed below.
    db = sqlite3.connect(str(work / 's.db'))
    try:
        if db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'metric_blocks'").fetchone()[0]:
            db.execute('DELETE FROM metric_blocks')
            db.execute('UPDATE latest_metrics SET blocks = 0, dirty_lo = NULL, dirty_hi = NULL')
            db.commit()
    finally:
        db.close()
    t_start = time.monotonic()
    server = restlib.Server(store, work / 'art', work)
    floor_dir = work / 'floor'
    floor_dir.mkdir(exist_ok=True)
    (floor_dir / 'floor.html').write_text(FLOOR_PAGE)
    floor = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), lambda *a: FloorHandler(*a, directory=str(floor_dir)))
    threading.Thread(target=floor.serve_forever, daemon=True).start()
    try:
        kept_after = None
        while time.monotonic() - t_start < 120:
            db = sqlite3.connect('file:%s?mode=ro' % (work / 's.db'), uri=True)
            try:
                row = db.execute("SELECT blocks FROM latest_metrics WHERE run_uuid = ? AND "
                                 "key = 'loss'", (long_run,)).fetchone()
            finally:
                db.close()
            if row and row[0] == 1:
                kept_after = time.monotonic() - t_start
                break
            time.sleep(0.05)
        print('the long series\' summaries kept by the server in the background %s' %
              ('%.2f s after it was started' % kept_after if kept_after is not None
               else 'NOT within 120 s'))
        spec = {'base': server.base, 'web_dir': str(ROOT / 'web'), 'exp_id': exp_id,
                'long_run': long_run, 'reps': args.reps, 'only': args.only,
                'floor_base': 'http://127.0.0.1:%d' % floor.server_address[1],
                'floor_dir': str(floor_dir)}
        spec_path = work / 'bench-spec.json'
        spec_path.write_text(json.dumps(spec))
        proc = subprocess.run(['node', str(ROOT / 'bench' / 'bench_webui.mjs'), str(spec_path)],
                              capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            sys.exit('bench_webui.mjs failed:\n' + proc.stderr)
        res = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        floor.shutdown()
        server.stop()
        if not args.keep:
            shutil.rmtree(work, True)
    goals = {'first_rows': 300, 'first_rows_sorted_by_metric': 300, 'first_rows_filtered': 300,
             'first_rows_new_window': None, 'floor_one_line': None,
             'floor_one_line_new_window': None, 'floor_static_rows': None,
             'floor_static_rows_new_window': None, 'chart_1M_points': 500, 'chart_1M_points_time': 500}
    print('web UI, %d runs, a %d-point metric (median of %d cold loads):' %
          (args.runs, args.points, args.reps))
    # The first rows' goal is judged on their paint (what a user sees), the chart's on uPlot
    # having drawn into its canvas.
    for k, goal in goals.items():
        r = res.get(k)
        if r is None:
            continue
        judged = r.get('painted_median_ms', r['median_ms'])
        verdict = ('goal < %d ms: %s' % (goal, 'met' if judged is not None and judged < goal
                                          else 'NOT met')) if goal else '(no goal)'
        if 'painted_all_ms' in r:
            print('  %-30s painted %s ms (all: %s); in the page %d ms (all: %s)  %s%s' %
                  (k, judged, ' '.join(str(x) for x in r['painted_all_ms']), r['median_ms'],
                   ' '.join(map(str, r['all_ms'])), verdict,
                   ('  ' + r['notes']) if r.get('notes') else ''))
        else:
            print('  %-30s drawn %d ms (all: %s)  %s%s' %
                  (k, r['median_ms'], ' '.join(map(str, r['all_ms'])), verdict,
                   ('  ' + r['notes']) if r.get('notes') else ''))
    s = res.get('scroll_5000_rows')
    if s is None:
        print(json.dumps(res))
        return
    print('  scroll 5000 rows: %d frames, median %.1f ms, p95 %.1f ms a frame, %d rows in the DOM'
          ' (%s)' % (s['frames'], s['median_frame_ms'], s['p95_frame_ms'], s['rows_in_dom'],
                     s['loaded']))
    print(json.dumps(res))


if __name__ == '__main__':
    main()
