"""The ``leakage`` command line as click objects, for ``sphinx-click``.

``leakage.cli.app`` is a typer app; ``typer.main.get_command`` turns it into the command it
runs as. Recent typer releases vendor their own copy of click (``typer._click``), whose
objects ``sphinx-click`` does not accept, so :func:`to_click` rebuilds the tree as plain
click commands (names, help, options, arguments, defaults): documentation only, nothing
here runs a command. Each top-level command is exposed under its name with ``-`` replaced
by ``_`` (``_cli:measure``, ``_cli:rd``, ...), one documentation page each.
"""

from __future__ import annotations

import click
import typer

from leakage.cli import app


def _param(p):
    if isinstance(p, click.Parameter):
        return p
    common = {
        "required": bool(p.required),
        "metavar": p.metavar,
        "nargs": p.nargs,
    }
    if not p.opts or not p.opts[0].startswith("-"):  # an argument
        return click.Argument([p.name], **common)
    decls = [p.name]
    secondary = list(p.secondary_opts or [])
    for i, o in enumerate(p.opts):
        decls.append(f"{o}/{secondary[i]}" if i < len(secondary) else o)
    default = p.default
    if default is not None and not isinstance(default, (str, int, float, bool)):
        default = str(default)
    return click.Option(
        decls,
        help=p.help,
        default=default,
        show_default=p.show_default,
        is_flag=bool(getattr(p, "is_flag", False)),
        multiple=bool(p.multiple),
        hidden=bool(getattr(p, "hidden", False)),
        **common,
    )


def to_click(cmd, name: str | None = None):
    """A plain click Command/Group with the name, help and parameters of ``cmd``."""
    if isinstance(cmd, click.Command):
        return cmd
    kwargs = {
        "help": cmd.help,
        "short_help": cmd.short_help,
        "epilog": cmd.epilog,
        "params": [_param(p) for p in cmd.params],
        "hidden": bool(cmd.hidden),
    }
    subs = getattr(cmd, "commands", None)
    if subs is None:
        return click.Command(name or cmd.name, **kwargs)
    group = click.Group(name or cmd.name, **kwargs)
    for n, c in subs.items():
        if not c.hidden:  # hidden: the short aliases (``leakage measure mi``)
            group.add_command(to_click(c, n), n)
    return group


cli = to_click(typer.main.get_command(app), "leakage")

#: command name -> attribute name in this module
GROUPS = {name: name.replace("-", "_") for name in cli.commands}

for _name, _attr in GROUPS.items():
    globals()[_attr] = cli.commands[_name]
