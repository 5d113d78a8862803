"""Run a trained agent on MiniWoB++ tasks, N fresh seeded episodes each.

Seeds are strings ``"eval:<seed>:<task>:<i>"``: the demonstrations were made
by people on instances drawn by their own browsers, so no evaluation instance
was ever a training instance, and the same ``--seed`` reruns the same
instances. An episode is a success when the page's raw reward is above 0.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from demoforge.agent.runtime import Agent, run_agent
from demoforge.capture.browser import launch_browser
from demoforge.evaluate.miniwob_env import MiniWoBEnv

#: A generic step cap, the same for every task: most demonstrated episodes take
#: under 10 actions, a flight booking about 15 (median; 37 at most); twice that
#: leaves room for the actions an agent tries that change nothing.
MAX_STEPS = 30
#: After the agent stops, how long the page may take to report its reward.
GRACE_MS = 500


@dataclass
class EpisodeResult:
    task: str
    seed: str
    success: bool
    raw_reward: float
    reward: float
    steps: int
    step_ms: list[float]
    stopped: str
    reason: str | None = None


@dataclass
class TaskResult:
    task: str
    episodes: list[EpisodeResult] = field(default_factory=list)

    @property
    def successes(self) -> int:
        return sum(e.success for e in self.episodes)

    @property
    def rate(self) -> float:
        return self.successes / len(self.episodes) if self.episodes else 0.0

    @property
    def mean_raw_reward(self) -> float:
        return sum(e.raw_reward for e in self.episodes) / len(self.episodes) if self.episodes else 0.0


def episode_seed(seed: int, task: str, i: int) -> str:
    return f"eval:{seed}:{task}:{i}"


def run_episode(env: MiniWoBEnv, agent: Agent, seed: str, max_steps: int = MAX_STEPS) -> EpisodeResult:
    obs = env.reset(seed)
    run = run_agent(
        env.page,
        agent,
        obs.instruction,
        max_steps=max_steps,
        done=lambda: env.outcome().done,
        observe=lambda _page: env.observe().snapshot,
    )
    out = env.outcome()
    waited = 0
    while not out.done and waited < GRACE_MS:
        env.page.wait_for_timeout(100)
        waited += 100
        out = env.outcome()
    return EpisodeResult(
        task=env.task,
        seed=seed,
        success=out.done and out.success,
        raw_reward=out.raw_reward,
        reward=out.reward,
        steps=len(run.actions),
        step_ms=[round(ms, 2) for ms in run.step_ms],
        stopped="done" if out.done else run.stopped,
        reason=out.reason,
    )


def evaluate(
    model_dir: Path,
    tasks: list[str],
    episodes: int,
    seed: int,
    log_path: Path | None = None,
    on_episode: Callable[[EpisodeResult], None] | None = None,
    max_steps: int = MAX_STEPS,
) -> list[TaskResult]:
    """Run ``episodes`` episodes of every task in one headless browser.

    Each finished episode is appended to ``log_path`` (JSON Lines) at once, so
    a long benchmark that is interrupted keeps what it measured.
    """
    agent = Agent(model_dir)
    results = []
    with launch_browser() as browser:
        for task in tasks:
            env = MiniWoBEnv(browser, task)
            result = TaskResult(task)
            try:
                for i in range(episodes):
                    ep = run_episode(env, agent, episode_seed(seed, task, i), max_steps)
                    result.episodes.append(ep)
                    if log_path is not None:
                        with log_path.open("a") as f:
                            f.write(json.dumps(asdict(ep)) + "\n")
                    if on_episode is not None:
                        on_episode(ep)
            finally:
                env.close()
            results.append(result)
    return results


def step_ms_summary(results: list[TaskResult]) -> dict[str, float]:
    """Median and 95th percentile of the agent's per-step decision time."""
    ms = sorted(m for r in results for e in r.episodes for m in e.step_ms)
    if not ms:
        return {"median": float("nan"), "p95": float("nan"), "steps": 0}
    return {
        "median": statistics.median(ms),
        "p95": ms[min(len(ms) - 1, int(0.95 * len(ms)))],
        "mean": statistics.fmean(ms),
        "steps": len(ms),
    }
