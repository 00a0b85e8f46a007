"""From a submitted run form to its end: what a coordinator waits for in the Prefect UI.

    DUBAN_HOME=<demo> .venv/bin/duban serve &      # the action forms run in its process
    .venv/bin/python bench/form_to_done.py [--api http://127.0.0.1:4200/api] [--items 2 3 4]

Submits the 核验销号 form once per item (as the UI's Submit button does: a flow run created from
the deployment with its parameters) and prints the seconds until each run ends, its name and its
state (a refusal, 未执行, counts: it is the coordinator's answer too).
"""

from __future__ import annotations

import argparse
import time

import httpx

FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", default="http://127.0.0.1:4200/api")
    parser.add_argument("--items", type=int, nargs="+", default=[2, 3, 4])
    parser.add_argument("--actor", default="王五")
    args = parser.parse_args()
    with httpx.Client(base_url=args.api, timeout=30) as api:
        found = api.post("/deployments/filter", json={}).json()
        verify = next(d for d in found if d["name"].startswith("核验销号"))
        for item in args.items:
            started = time.monotonic()
            for _ in range(10):  # a busy SQLite server answers 503; the UI and clients retry
                answer = api.post(
                    f"/deployments/{verify['id']}/create_flow_run",
                    json={"parameters": {"item_id": item, "actor": args.actor}},
                )
                if answer.status_code != 503:
                    break
                time.sleep(0.2)
            run = answer.raise_for_status().json()
            while (state := api.get(f"/flow_runs/{run['id']}").json())["state"][
                "type"
            ] not in FINAL:
                time.sleep(0.2)
            print(
                f"{time.monotonic() - started:5.1f} s  {state['name']}  {state['state']['name']}"
                f"  {(state['state'].get('message') or '')[:50]}"
            )


if __name__ == "__main__":
    main()
