"""nsh's own commands, as the simulated watch answers them: in nsh's words and layouts (the
dialect's), with nsh's errors (``nsh: ls: stat failed: 2``, ``nsh: exec: missing required
argument(s)``, ``nsh: uname: argument invalid``)."""

from __future__ import annotations

from pytest_vela.sim import dialect as words
from pytest_vela.sim.shell_surface import Command, ShellSurface

ENOENT = 2
EISDIR = 21
HEAP_USED = 1787784


def failed(command: str, call: str, errno: int) -> str:
    """nsh's report of a failed system call, errno as a number (no strerror in these builds)."""
    return f"nsh: {command}: {call} failed: {errno}\n"


class NshCommands:
    def __init__(self, shell: ShellSurface) -> None:
        self.shell = shell

    def table(self) -> dict[str, Command]:
        return {
            "cd": Command(self.cd, "[<dir-path>|-|~|..]"),
            "echo": Command(self.echo, "[-n] [<string|$name> [<string|$name>...]]"),
            "exec": Command(self.exec, "<hex-address>", 1),
            "free": Command(self.free),
            "help": Command(self.help, "[-v] [<cmd>]"),
            "ls": Command(self.ls, "[-lRsh] <dir-path>"),
            "ps": Command(self.ps, "<-heap> <pid1 pid2 ...>"),
            "pwd": Command(self.pwd),
            "reboot": Command(self.reboot, "[<n>]"),
            "uname": Command(self.uname, "[-a | -imoprsv]"),
        }

    async def help(self, args: list[str]) -> None:
        shell = self.shell
        commands = shell.commands
        if args and not args[0].startswith("-"):
            command = commands.get(args[0])
            if command is None:
                await shell.out(f"nsh: {args[0]}: command not found\n")
            else:
                await shell.out(f"{args[0]} usage:  {args[0]} {command.usage}".rstrip() + "\n")
            return
        own = [name for name, command in commands.items() if not command.app]
        apps = sorted({*shell.dialect.builtins, *(n for n, c in commands.items() if c.app)})
        text = [f"help usage:  help {commands['help'].usage}", "", *words.columns(own)]
        text += ["", "Builtin Apps:", *words.columns(apps)]
        await shell.out("\n".join(text) + "\n")

    async def ls(self, args: list[str]) -> None:
        shell, store = self.shell, self.shell.store
        paths = [arg for arg in args if not arg.startswith("-")] or [shell.cwd]
        out: list[str] = []
        for path in paths:
            if not store.exists(path, shell.cwd):
                out.append(failed("ls", "stat", ENOENT))
            elif store.is_dir(path, shell.cwd):
                shown = path.rstrip("/") or "/"
                out.append(f"{shown}:\n")
                out += [f" {name}\n" for name in store.listdir(path, shell.cwd)]
            else:
                out.append(f" {path}\n")
        await shell.out("".join(out))

    async def cd(self, args: list[str]) -> None:
        shell, store = self.shell, self.shell.store
        target = args[0] if args else "/"
        if not store.is_dir(target, shell.cwd):
            await shell.out(failed("cd", "chdir", ENOENT))
            return
        resolved = store.resolve(target, shell.cwd).relative_to(store.root).as_posix()
        shell.cwd = "/" + resolved.strip(".").strip("/")

    async def pwd(self, args: list[str]) -> None:
        await self.shell.out(self.shell.cwd + "\n")

    async def echo(self, args: list[str]) -> None:
        if args[:1] == ["-n"]:
            await self.shell.out(" ".join(args[1:]))
        else:
            await self.shell.out(" ".join(args) + "\n")

    async def ps(self, args: list[str]) -> None:
        shell = self.shell
        await shell.out("\n".join(shell.dialect.ps_lines(shell.apps.running_apps())) + "\n")

    async def free(self, args: list[str]) -> None:
        shell = self.shell
        used = HEAP_USED + 16360 * len(shell.apps.running_apps())
        await shell.out("\n".join(words.free_lines(shell.dialect.heap_total, used)) + "\n")

    async def uname(self, args: list[str]) -> None:
        fields = words.uname_fields()
        wanted: set[str] = set()
        for arg in args:
            if not arg.startswith("-"):
                break  # getopt stops at the first operand
            for flag in arg[1:]:
                if flag == "a":
                    wanted = set(fields)
                elif flag in fields or flag in "op":
                    wanted.add({"o": "s"}.get(flag, flag))
                else:  # -n needs networking, which this build has not
                    await self.shell.out("nsh: uname: argument invalid\n")
                    return
        if wanted == set(fields) | {"p"}:
            wanted.discard("p")  # -p adds "unknown" unless everything was asked for
        shown = [value for key, value in fields.items() if key in (wanted or {"s"})]
        if "p" in wanted:
            shown.append("unknown")
        await self.shell.out(" ".join(shown) + "\n")

    async def exec(self, args: list[str]) -> bool:
        """Call code at an address: on this watch, any address ends in an assertion."""
        await self.shell.out(f"Calling {args[0]}\n")
        await self.shell.crash()
        return True

    async def reboot(self, args: list[str]) -> bool:
        await self.shell.reboot()
        return True  # the boot sequence printed the prompt already
