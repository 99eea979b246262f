"""What the simulated shell says, in the words of one NuttX build: apache NuttX's ``sim:nsh``
or the open-vela fork's (what Vela watches run). Every shape here is checked against the real
builds' transcripts (tests/test_sim_dialect.py), so the simulator cannot drift from them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

GREETING = "NuttShell (NSH)"  # nsh's, when it starts on the console
SYSNAME = "NuttX"
RELEASE = "0.0.0"  # as a build from a source tree (not a release tarball) reports itself
VERSION = "vela-sim Jan  1 2026 00:00:00"  # nsh's build: a commit, then its date and time
MACHINE = "sim"
PLATFORM = "sim"
HELP_LINE = 80  # nsh lays its command table out in 80 columns, 4 spaces in from the left
HELP_TAB = 4


@dataclass(frozen=True)
class Task:
    pid: int
    group: int
    priority: int
    kind: str  # "Kthread" or "Task"
    state: str
    event: str
    stack: int
    command: str


@dataclass(frozen=True)
class Dialect:
    name: str
    ps_format: str
    ps_header: tuple[str, ...]
    tasks: tuple[Task, ...]  # the kernel's own, then nsh; apps follow as tasks of their own
    heap_total: int
    builtins: tuple[str, ...]  # the build's own builtin apps

    @property
    def shell_pid(self) -> int:
        return self.tasks[-1].pid

    def ps_lines(self, apps: Sequence[str]) -> list[str]:
        first = self.shell_pid + 6
        app_tasks = [
            Task(first + i, first + i, 100, "Task", "Waiting", "Signal", 16360, name)
            for i, name in enumerate(apps)
        ]
        rows = [self.ps_format.format(*self.ps_header)]
        rows += [self.ps_format.format(*self._columns(task)) for task in (*self.tasks, *app_tasks)]
        return rows

    def _columns(self, task: Task) -> tuple[object, ...]:
        common = ("FIFO", task.kind, "-", task.state, task.event, "0" * 16, f"{task.stack:07d}")
        if self.name == "apache":  # TID, PID (its task group), PPID
            return (task.pid, task.group, 0, task.priority, *common, task.command)
        return (task.pid, task.group, task.priority, *common, task.command)


_COMMON = "{:<8} {:<7} {:>3} {:<8} {:<9} {:<16} {:>7} {}"
_TAIL = ("POLICY", "TYPE", "NPX", "STATE", "EVENT", "SIGMASK", "STACK", "COMMAND")

APACHE = Dialect(
    name="apache",
    ps_format="{:>5} {:>5} {:>5} {:>3} " + _COMMON,
    ps_header=("TID", "PID", "PPID", "PRI", *_TAIL),
    tasks=(
        Task(0, 0, 0, "Kthread", "Ready", "", 69584, "Idle_Task"),
        Task(1, 0, 224, "Kthread", "Waiting", "Semaphore", 67448, "sim_loop_wq 0x40d003f0"),
        Task(2, 0, 224, "Kthread", "Waiting", "Semaphore", 67472, "hpwork 0x400d01a0 0x400d0220"),
        Task(4, 4, 100, "Task", "Running", "", 67496, "nsh_main"),
    ),
    heap_total=67108864,
    builtins=("dd", "dumpstack", "gpio", "hello", "nsh", "ostest", "sh"),
)

VELA = Dialect(
    name="vela",
    ps_format="{:>5} {:>5} {:>3} " + _COMMON,
    ps_header=("PID", "GROUP", "PRI", *_TAIL),
    tasks=(
        Task(0, 0, 0, "Kthread", "Ready", "", 69616, "Idle_Task"),
        Task(1, 0, 224, "Kthread", "Waiting", "Signal", 67536, "loop_task"),
        Task(2, 0, 224, "Kthread", "Waiting", "Semaphore", 67504, "hpwork 0x5007a100 0x5007a148"),
        Task(3, 3, 100, "Task", "Running", "", 67536, "nsh_main"),
    ),
    heap_total=67108856,
    builtins=("dumpstack", "gpio", "hello", "nsh", "ostest", "sh"),
)

DIALECTS = {dialect.name: dialect for dialect in (APACHE, VELA)}


def free_lines(total: int, used: int) -> list[str]:
    """``free`` as NuttX 12.4 on and the Vela fork print it: one row per heap, named last."""
    row = "{:>11}{:>11}{:>11}{:>11}{:>11}{:>7}{:>7} {}"
    header = row.format("total", "used", "free", "maxused", "maxfree", "nused", "nfree", "name")
    free = total - used
    return [header, row.format(total, used, free, used + 696, free - 63504, 67, 4, "Umem")]


def columns(names: Sequence[str]) -> list[str]:
    """Names laid out as nsh's ``help`` does: as many columns as fit, filled top to bottom."""
    if not names:
        return []
    width = max(len(name) for name in names) + HELP_TAB
    per_line = max(1, HELP_LINE // width)
    rows = -(-len(names) // per_line)
    return [
        " " * HELP_TAB + "".join(name.ljust(width) for name in names[row::rows])
        for row in range(rows)
    ]


def uname_fields() -> dict[str, str]:
    """``uname``'s fields by the option that asks for each, in the order ``-a`` prints them.
    No node name: nsh has one only where networking is built in."""
    return {"s": SYSNAME, "r": RELEASE, "v": VERSION, "m": MACHINE, "i": PLATFORM}


def crash_lines(dialect: Dialect) -> list[str]:
    """An assertion as NuttX reports it (sched/misc/assert.c): the version, the assertion, a
    backtrace of the asserting task, three addresses short of eight per line."""
    fields = uname_fields()
    pid = dialect.shell_pid
    return [
        f"dump_assert_info: Current Version: {SYSNAME}  {fields['r']} {fields['v']} {MACHINE}",
        "dump_assert_info: Assertion failed rtcb && rtcb->lockcount > 0: at file: "
        "sched/sched_unlock.c:67 task: nsh_main process: nsh_main 0x4001933d",
        f"sched_dumpstack: backtrace|{pid:2d}: 0x00000000400747b4 0x0000000040073be4 "
        "0x000000004006e4b2 0x000000004005484b 0x0000000040047fb7 0x0000000040048123 "
        "0x00000000400482b6 0x00000000400104ea",
        f"sched_dumpstack: backtrace|{pid:2d}: 0x000000004001939d 0x0000000040010b94 "
        "0x000000004000580c 0x00000000400178cf",
    ]
