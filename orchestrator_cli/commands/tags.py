"""Tag commands: free-form `name[=value]` labels on instances."""

from __future__ import annotations

from orchestrator_cli.commands.context import Context
from orchestrator_cli.commands.output import Output, line, lines, nothing
from orchestrator_cli.commands.registry import NO_INSTANCE, command
from orchestrator_cli.errors import UsageError
from orchestrator_cli.model.tags import Tag, parse_tag, parse_tag_expression

SECTION = "tags"


def _tag(ctx: Context, allow_negation: bool = False) -> Tag:
    text = ctx.require(ctx.options.tag, "--tag", "name or name=value")
    try:
        return parse_tag(text, allow_negation=allow_negation)
    except ValueError as e:
        raise UsageError(f"invalid --tag: {e}") from e


@command("tags", SECTION, "List an instance's tags as name=value")
def tags(ctx: Context) -> Output:
    from orchestrator_cli.backend import tags as store

    found = store.read(ctx.backend, ctx.instance_key())
    return lines([f"{t.name}={t.value}" for t in found], data={t.name: t.value for t in found})


@command(
    "tag-value",
    SECTION,
    "Print the value of one tag (nothing when the instance lacks it)",
    flags=("--tag <name> (required)",),
)
def tag_value(ctx: Context) -> Output:
    from orchestrator_cli.backend import tags as store

    wanted = _tag(ctx)
    for t in store.read(ctx.backend, ctx.instance_key()):
        if t.name == wanted.name:
            return line(t.value)
    return nothing(data=None)


@command(
    "tagged",
    SECTION,
    "List instances matching a tag expression (a,b=1,~c)",
    target=NO_INSTANCE,
    flags=("--tag <expression> (required)",),
)
def tagged(ctx: Context) -> Output:
    from orchestrator_cli.backend import tags as store

    text = ctx.require(ctx.options.tag, "--tag", "a tag expression")
    try:
        conditions = parse_tag_expression(text)
    except ValueError as e:
        raise UsageError(f"invalid --tag: {e}") from e
    keys = [str(k) for k in store.tagged(ctx.backend, conditions)]
    return lines(keys, data=keys)


@command("tag", SECTION, "Add or update a tag on an instance", flags=("--tag <name[=value]> (required)",))
def tag(ctx: Context) -> Output:
    from orchestrator_cli.backend import audit, instances
    from orchestrator_cli.backend import tags as store

    wanted = _tag(ctx)
    key = ctx.instance_key()
    store.put(ctx.backend, key, wanted)
    audit.audit(ctx.backend, "tag", key, f"{wanted.name}={wanted.value}", instances.cluster_of(ctx.backend, key))
    return line(key)


@command("untag", SECTION, "Remove a tag from an instance", flags=("--tag <name[=value]> (required)",))
def untag(ctx: Context) -> Output:
    from orchestrator_cli.backend import audit
    from orchestrator_cli.backend import tags as store

    wanted = _tag(ctx)
    removed = store.remove(ctx.backend, wanted, ctx.instance_key())
    for key in removed:
        audit.audit(ctx.backend, "untag", key, wanted.name)
    return lines(removed, data=[str(k) for k in removed])


@command(
    "untag-all",
    SECTION,
    "Remove a tag=value from every instance",
    target=NO_INSTANCE,
    flags=("--tag <name=value> (required, value included)",),
)
def untag_all(ctx: Context) -> Output:
    from orchestrator_cli.backend import audit
    from orchestrator_cli.backend import tags as store

    wanted = _tag(ctx)
    if not wanted.has_value:
        raise UsageError("untag-all needs --tag name=value: it will not delete a value-less tag across instances")
    removed = store.remove(ctx.backend, wanted)
    for key in removed:
        audit.audit(ctx.backend, "untag-all", key, f"{wanted.name}={wanted.value}")
    return lines(removed, data=[str(k) for k in removed])
