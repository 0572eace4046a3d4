"""Reading YAML that people write (configs, runbook front matter) with limits on what it costs.

A few lines of anchors and aliases can stand for billions of nodes (the "billion laughs"
shape): PyYAML composes them as shared nodes in linear time, but whatever walks the result
afterwards (interpolation, validation) expands them. So the document is composed first, the
size it *expands to* is counted on the node graph (each distinct node once, so the count itself
is linear), and a document over :data:`MAX_EXPANDED_NODES` or :data:`MAX_YAML_BYTES` is refused
before anything expands it.
"""

from __future__ import annotations

from typing import Any

import yaml

#: Bytes of YAML read at all: a config or a front matter is a few kilobytes.
MAX_YAML_BYTES = 1 << 20
#: Nodes (scalars, lists, mappings) the document may expand to once aliases are followed.
MAX_EXPANDED_NODES = 100_000


class YamlLimitError(ValueError):
    """The YAML is too large, expands too far through aliases, or nests too deeply."""


def load_yaml(
    text: str,
    *,
    max_bytes: int = MAX_YAML_BYTES,
    max_nodes: int = MAX_EXPANDED_NODES,
) -> Any:
    """``yaml.safe_load(text)``, refused at once when it would cost too much.

    Raises :class:`YamlLimitError` (a ``ValueError``) over the limits and ``yaml.YAMLError`` for
    YAML that does not parse.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise YamlLimitError(
            f"the YAML is {size:,} bytes, more than the {max_bytes:,} bytes ProdGuardian reads; "
            "split it or remove what is not configuration"
        )
    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise YamlLimitError("the YAML nests too deeply to read") from None
        if node is None:
            return None
        expanded = expanded_size(node, limit=max_nodes)
        if expanded > max_nodes:
            raise YamlLimitError(
                f"the YAML's anchors and aliases expand to more than {max_nodes:,} nodes "
                "(the 'billion laughs' shape); write the values out, or reuse fewer aliases"
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def expanded_size(root: yaml.Node, *, limit: int) -> int:
    """How many nodes ``root`` stands for with every alias followed, counting up to just past
    ``limit`` (the exact figure beyond it does not matter). Iterative: no recursion limit.
    A recursive alias (a node inside itself) is a :class:`YamlLimitError`."""
    sizes: dict[int, int] = {}
    entered: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        kids = _children(node)
        if not children_done:
            entered.add(key)
            stack.append((node, True))
            for kid in kids:
                if id(kid) in entered and id(kid) not in sizes:
                    raise YamlLimitError(
                        "an alias refers to a node that contains it (a recursive structure); "
                        "write the value out"
                    )
                stack.append((kid, False))
            continue
        total = 1 + sum(sizes[id(kid)] for kid in kids)
        sizes[key] = min(total, limit + 1)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
