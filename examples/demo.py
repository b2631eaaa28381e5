# A tour of a toolshed sandbox: run with `toolshed run examples/demo.py`.
import json, os, statistics

rows = [{"name": f"item-{i}", "price": round(1.5 * i, 2)} for i in range(1, 11)]
with open("items.json", "w") as f:
    json.dump(rows, f)

prices = [row["price"] for row in json.load(open("items.json"))]
print("files in the workbench:", sorted(os.listdir(".")))
print("cwd:", os.getcwd())
print("mean price:", statistics.mean(prices))
{"count": len(prices), "max": max(prices)}
