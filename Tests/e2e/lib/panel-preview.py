"""Draws dashboard panels from a live Prometheus into one PNG, for the README's preview of the dashboards
(where no Grafana runs): each panel's queries as Grafana would send them (variables at All, range queries
over the last MINUTES), one line per series with the panel's legend format.

usage: panel-preview.py API OUT.png MINUTES DASHBOARD.json:PANEL TITLE [DASHBOARD.json:PANEL TITLE ...]
Needs matplotlib (Debian's python3-matplotlib).
"""
import json
import re
import sys
import time
import urllib.parse
import urllib.request

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

VALUES = {"$job": "kata-pulse", "$instance": ".+", "$namespace": ".*", "$pod": ".*", "$sandbox": ".+",
          "$__rate_interval": "1m"}
SCALE = {"bytes": (2**20, "MiB"), "s": (1, "s"), "ms": (1, "ms"), "percentunit": (0.01, "%"), "short": (1, ""),
         "Bps": (1024, "KiB/s"), "reqps": (1, "/s"), "none": (1, "")}


def substitute(text):
    for name in sorted(VALUES, key=len, reverse=True):
        text = text.replace(name, VALUES[name])
    return text


def legend(format_, labels):
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), format_).strip() or str(labels)


def main():
    api, out, minutes = sys.argv[1], sys.argv[2], float(sys.argv[3])
    wanted = sys.argv[4:]
    end = time.time()
    start = end - minutes * 60
    columns = 2
    rows = (len(wanted) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(13, 3.4 * rows), squeeze=False)
    for index, item in enumerate(wanted):
        path, title = item.split(":", 1)
        board = json.load(open(path))
        panel = next(p for p in board["panels"] if p["title"] == title)
        axis = axes[index // columns][index % columns]
        divisor, unit = SCALE.get(panel["fieldConfig"]["defaults"].get("unit", "short"), (1, ""))
        for target in panel["targets"]:
            query = urllib.parse.urlencode(
                {"query": substitute(target["expr"]), "start": start, "end": end, "step": max(1, minutes * 60 / 200)})
            result = json.load(urllib.request.urlopen(f"{api}/query_range?{query}"))["data"]["result"]
            for series in result:
                xs = [(float(t) - end) / 60 for t, _ in series["values"]]
                ys = [float(v) / divisor for _, v in series["values"]]
                # Sandbox ids shortened as `crictl` does.
                name = re.sub(r"\b([0-9a-f]{12})[0-9a-f]{52}\b", r"\1", legend(target.get("legendFormat", ""), series["metric"]))
                axis.plot(xs, ys, linewidth=1.2, label=name)
        axis.set_title(f"{board['title']} — {title}", fontsize=10, loc="left")
        axis.set_xlabel("minutes before the end of the run", fontsize=8)
        axis.set_ylabel(unit, fontsize=8)
        axis.tick_params(labelsize=8)
        axis.grid(alpha=0.3)
        handles, labels = axis.get_legend_handles_labels()
        if handles:
            axis.legend(fontsize=6.5, loc="upper left", ncol=2 if len(handles) > 4 else 1, framealpha=0.7)
    for index in range(len(wanted), rows * columns):
        axes[index // columns][index % columns].axis("off")
    figure.tight_layout()
    figure.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
