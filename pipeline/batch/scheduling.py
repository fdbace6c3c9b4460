"""Driving luigi for ``dumpkit normalize``: its log, its scheduler (local, or a central
``luigid`` checked before anything runs), running tasks until they are complete, and the
message of a batch that did not complete."""
from __future__ import annotations

import json
import logging
import time
from typing import Any

from dumpkit.pipeline.batch.options import BatchError

__all__ = ["check_scheduler", "failed", "log_to", "remote_config", "scheduler_url", "setup_logging",
           "until_complete"]

#: luigi outcomes after which a worker sharing a central scheduler waits and asks again: the
#: tasks left are running on other workers ("not granted run permission" is luigi's NOT_RUN)
_WAIT = ("SUCCESS", "SUCCESS_WITH_RETRY", "NOT_RUN")


def scheduler_url(host: str, port: int) -> str:
    return f"http://{host}:{port}/"


def check_scheduler(host: str, port: int, timeout: float = 5.0) -> None:
    """Ask ``luigid`` at ``host:port`` for its worker list before anything runs (luigi itself
    would retry for a minute or more, then fail with a traceback)."""
    import urllib.error
    import urllib.request

    url = scheduler_url(host, port)
    try:
        with urllib.request.urlopen(url + "api/worker_list?data=%7B%7D", timeout=timeout) as response:
            json.loads(response.read(1 << 20))["response"]
    except urllib.error.HTTPError as exc:
        raise BatchError(f"the luigi scheduler at {url} answered HTTP {exc.code}: is it luigid?") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, (ValueError, KeyError, TypeError)):
            raise BatchError(f"{url} answered, but not as a luigi scheduler does") from None
        reason = getattr(exc, "reason", None) or exc
        raise BatchError(f"cannot reach the luigi scheduler at {url}: {reason}") from None


def setup_logging(log_path: str) -> None:
    """luigi (and everything else) logs to ``log_path``, not the terminal."""
    from dumpkit.pipeline.batch.luigi_lib import luigi

    config = luigi.configuration.get_config()
    config.set("core", "no_configure_logging", "true")
    log_to(log_path)
    for name in ("luigi", "luigi-interface"):
        logging.getLogger(name).setLevel(logging.INFO)


def log_to(log_path: str) -> None:
    """This process logs (INFO and up, warnings too) to ``log_path`` only."""
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(name)s %(levelname)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)


def remote_config() -> None:
    """luigi's settings for a worker sharing a central scheduler."""
    from dumpkit.pipeline.batch.luigi_lib import luigi

    config = luigi.configuration.get_config()
    config.set("worker", "keep_alive", "true")  # stay while others run what we wait for
    config.set("worker", "wait_interval", "0.5")
    # a scheduler that goes away mid-batch: a few quick retries, not luigi's minutes
    config.set("core", "rpc-retry-attempts", "3")
    config.set("core", "rpc-retry-wait", "2")
    config.set("core", "rpc-connect-timeout", "5.0")


def _build(tasks: list[Any], env: dict[str, Any]) -> Any:
    from dumpkit.pipeline.batch.luigi_lib import luigi

    return luigi.build(tasks, detailed_summary=True, **env)


def until_complete(target: Any, tasks: list[Any], env: dict[str, Any], remote: bool) -> tuple[bool, Any]:
    """Run ``tasks``; with a central scheduler, wait while another worker finishes ``target``."""
    while True:
        result = _build(tasks, env)
        if target.complete():
            return True, result
        if not remote or result.status.name not in _WAIT:
            return False, result
        time.sleep(0.5)  # running on another worker: luigid hands it back if that worker dies


def failed(result: Any, log_path: str) -> BatchError:
    """The error of a batch luigi did not complete: its status and the tasks that failed."""
    lines = [f"the batch did not complete ({result.status.name.lower()}: "
             f"{result.status.value[1]}); details in {log_path}"]
    show = False
    for line in result.summary_text.splitlines():
        if line.startswith("* "):
            show = any(word in line for word in ("fail", "missing", "not granted", "disabled"))
            if show:
                lines.append("  " + line[2:])
        elif show and line.startswith("    - "):
            lines.append("    " + line[6:])
    return BatchError("\n".join(lines))
